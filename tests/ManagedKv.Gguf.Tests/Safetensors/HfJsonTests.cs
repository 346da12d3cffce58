using System.Text;
using ManagedKv.Gguf.Safetensors;
using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Safetensors;

[TestClass]
public sealed class HfJsonTests
{
    private static GgufFormatException Rejects(string json) =>
        Assert.ThrowsExactly<GgufFormatException>(() => HfJson.Parse(Encoding.UTF8.GetBytes(json), "x.json").Dispose());

    [TestMethod]
    public void SameKeyInDifferentObjectsIsFine()
    {
        using var doc = HfJson.Parse(Encoding.UTF8.GetBytes("""{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 3}, {"k": 4}], "k": 5}"""), "x.json");
        var root = new HfJsonObject(doc.RootElement, "x.json");
        Assert.AreEqual(2, root.RequiredObject("b").RequiredInt32("k"));
        Assert.AreEqual("b.k", root.RequiredObject("b").FieldName("k"));
    }

    [TestMethod]
    public void NestedDuplicateIsFoundWithItsOffset()
    {
        string json = """{"a": {"k": 1, "j": [{"z": 0, "z": 1}]}}""";
        var e = Rejects(json);
        Assert.AreEqual(json.LastIndexOf("\"z\"", StringComparison.Ordinal), e.Offset);
    }

    [TestMethod]
    public void BaseOffsetIsAdded()
    {
        var e = Assert.ThrowsExactly<GgufFormatException>(() => HfJson.Parse(Encoding.UTF8.GetBytes("{\"a\": x}"), "f", baseOffset: 100));
        Assert.AreEqual(106, e.Offset);
    }

    [TestMethod]
    public void TypedFieldsCheckTypesAndTreatNullAsAbsent()
    {
        using var doc = HfJson.Parse(Encoding.UTF8.GetBytes("""{"i": 7, "f": 2.0, "d": 0.5, "s": "x", "b": true, "n": null, "arr": ["p", "q"], "bad": [1]}"""), "x.json");
        var o = new HfJsonObject(doc.RootElement, "x.json");
        Assert.AreEqual(7, o.Int32("i"));
        Assert.AreEqual(2, o.Int32("f"));
        Assert.AreEqual(0.5, o.Double("d"));
        Assert.AreEqual("x", o.String("s"));
        Assert.IsTrue(o.Bool("b"));
        Assert.IsNull(o.Int32("n"));
        Assert.IsFalse(o.Has("n"));
        Assert.IsNull(o.String("absent"));
        CollectionAssert.AreEqual(new[] { "p", "q" }, o.StringArray("arr"));
        Assert.AreEqual("bad[0]", Assert.ThrowsExactly<GgufFormatException>(() => o.StringArray("bad")).Field);
        Assert.AreEqual("d", Assert.ThrowsExactly<GgufFormatException>(() => o.Int32("d")).Field);
        Assert.AreEqual("s", Assert.ThrowsExactly<GgufFormatException>(() => o.Double("s")).Field);
        Assert.AreEqual("i", Assert.ThrowsExactly<GgufFormatException>(() => o.Bool("i")).Field);
        Assert.AreEqual("absent", Assert.ThrowsExactly<GgufFormatException>(() => o.RequiredInt32("absent")).Field);
        Assert.AreEqual("s", Assert.ThrowsExactly<GgufFormatException>(() => o.Object("s")).Field);
    }

    [TestMethod]
    public void DeepNestingAndOversizedFilesAreRejected()
    {
        Rejects(new string('[', 200) + new string(']', 200));
        Rejects("{\"a\": " + new string('[', 100) + new string(']', 100) + "}");
        string path = Path.Combine(TestData.ScratchDirectory("hfjson"), "big.json");
        File.WriteAllText(path, "{\"a\": \"" + new string('x', 2000) + "\"}");
        Assert.AreEqual("<file>", Assert.ThrowsExactly<GgufFormatException>(() => HfJson.ReadFile(path, maxBytes: 1000)).Field);
        using (HfJson.ReadFile(path)) { }
    }
}
