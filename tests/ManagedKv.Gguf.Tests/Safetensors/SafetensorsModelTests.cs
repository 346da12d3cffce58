using ManagedKv.Gguf.Safetensors;
using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Safetensors;

[TestClass]
public sealed class SafetensorsModelTests
{
    private static void WriteShard(string folder, string name, params string[] tensors)
    {
        var w = new SafetensorsWriter();
        foreach (string t in tensors) w.AddF32(t, [t.Length, 1f, 2f], 3);
        w.Write(Path.Combine(folder, name));
    }

    private static void WriteIndex(string folder, params (string Tensor, string Shard)[] map) =>
        SafetensorsWriter.WriteIndex(Path.Combine(folder, SafetensorsModel.IndexFileName), map.Select(m => KeyValuePair.Create(m.Tensor, m.Shard)), 123);

    private static string ShardedFolder()
    {
        string dir = TestData.ScratchDirectory("st-sharded");
        WriteShard(dir, "model-00001-of-00002.safetensors", "a", "bb");
        WriteShard(dir, "model-00002-of-00002.safetensors", "ccc");
        WriteIndex(dir, ("a", "model-00001-of-00002.safetensors"), ("bb", "model-00001-of-00002.safetensors"), ("ccc", "model-00002-of-00002.safetensors"));
        return dir;
    }

    private static GgufFormatException Rejects(string folder) =>
        Assert.ThrowsExactly<GgufFormatException>(() => SafetensorsModel.OpenFolder(folder).Dispose());

    [TestMethod]
    public void SingleFileFolderOpens()
    {
        string dir = TestData.ScratchDirectory("st-single");
        WriteShard(dir, SafetensorsModel.SingleFileName, "x", "yy");
        using var model = SafetensorsModel.OpenFolder(dir);
        Assert.IsFalse(model.IsSharded);
        Assert.AreEqual(1, model.Files.Count);
        CollectionAssert.AreEqual(new[] { "x", "yy" }, model.TensorNames.ToArray());
        Assert.AreEqual(2f, SafetensorsRoundTripTests.Floats(model.GetTensorView("yy").Bytes)[0]);
        Assert.IsFalse(model.TryGetTensorView("zz", out _));
        Assert.ThrowsExactly<GgufFormatException>(() => model.GetTensorView("zz"));
    }

    [TestMethod]
    public void ShardedFolderServesEveryTensorFromItsShard()
    {
        string dir = ShardedFolder();
        using var model = SafetensorsModel.OpenFolder(dir);
        Assert.IsTrue(model.IsSharded);
        Assert.AreEqual(2, model.Files.Count);
        Assert.AreEqual("123", model.IndexMetadata["total_size"]);
        foreach (string t in new[] { "a", "bb", "ccc" })
            Assert.AreEqual(t.Length, SafetensorsRoundTripTests.Floats(model.GetTensorView(t).Bytes)[0]);
        Assert.AreEqual(Path.Combine(dir, "model-00002-of-00002.safetensors"), model.FindTensor("ccc")!.Value.File.FileName);
    }

    [TestMethod]
    public void MissingShardIsNamed()
    {
        string dir = ShardedFolder();
        File.Delete(Path.Combine(dir, "model-00002-of-00002.safetensors"));
        var e = Rejects(dir);
        Assert.AreEqual("weight_map[\"ccc\"]", e.Field);
        StringAssert.Contains(e.Problem, "does not exist");
        StringAssert.EndsWith(e.FileName, SafetensorsModel.IndexFileName);
    }

    [TestMethod]
    [DataRow("../model-00001-of-00002.safetensors")]
    [DataRow("/etc/passwd")]
    [DataRow("sub/dir.safetensors")]
    [DataRow("..")]
    [DataRow("")]
    public void ShardNamesThatAreNotPlainFileNamesAreRejected(string shard)
    {
        string dir = ShardedFolder();
        WriteIndex(dir, ("a", "model-00001-of-00002.safetensors"), ("ccc", shard));
        StringAssert.Contains(Rejects(dir).Problem, "not a plain file name");
    }

    [TestMethod]
    public void TensorInTwoShardsIsRejected()
    {
        string dir = ShardedFolder();
        WriteShard(dir, "model-00002-of-00002.safetensors", "ccc", "a");
        var e = Rejects(dir);
        StringAssert.Contains(e.Problem, "two shards");
        Assert.AreEqual("header[\"a\"]", e.Field);
    }

    [TestMethod]
    public void TensorListedInTheWrongShardIsRejected()
    {
        string dir = ShardedFolder();
        WriteIndex(dir, ("a", "model-00002-of-00002.safetensors"), ("ccc", "model-00001-of-00002.safetensors"));
        var e = Rejects(dir);
        StringAssert.Contains(e.Problem, "not in shard");
        WriteIndex(dir, ("a", "model-00001-of-00002.safetensors"), ("ghost", "model-00002-of-00002.safetensors"));
        StringAssert.Contains(Rejects(dir).Problem, "no shard holds it");
    }

    [TestMethod]
    [DataRow("{\"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}", "<json>")]
    [DataRow("{\"weight_map\": ", "<json>")]
    [DataRow("[]", "<root>")]
    [DataRow("{\"metadata\": {}}", "weight_map")]
    [DataRow("{\"weight_map\": []}", "weight_map")]
    [DataRow("{\"weight_map\": {}}", "weight_map")]
    [DataRow("{\"weight_map\": {\"a\": 3}}", "weight_map[\"a\"]")]
    public void MalformedIndexIsRejected(string json, string field)
    {
        string dir = ShardedFolder();
        File.WriteAllText(Path.Combine(dir, SafetensorsModel.IndexFileName), json);
        Assert.AreEqual(field, Rejects(dir).Field);
    }

    [TestMethod]
    public void CorruptShardIsReportedWithItsOwnFileName()
    {
        string dir = ShardedFolder();
        string shard = Path.Combine(dir, "model-00002-of-00002.safetensors");
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^2]);
        Assert.AreEqual(shard, Rejects(dir).FileName);
    }

    [TestMethod]
    public void FolderWithoutCheckpointIsRejected()
    {
        string dir = TestData.ScratchDirectory("st-empty");
        Assert.AreEqual(SafetensorsModel.SingleFileName, Rejects(dir).Field);
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => SafetensorsModel.OpenFolder(Path.Combine(dir, "missing")));
    }
}
