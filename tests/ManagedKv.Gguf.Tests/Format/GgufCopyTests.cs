using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Format;

/// <summary>
/// Files written by llama.cpp's converter (stories260K) and by gguf-py / llama-quantize (tiny-*) are rewritten
/// and must come out byte for byte identical: the proof that the writer's layout is llama.cpp's.
/// </summary>
[TestClass]
public sealed class GgufCopyTests
{
    [TestMethod]
    [DataRow("stories260K.gguf")]
    [DataRow("models", "tiny-llama-Q4_K_M.gguf")]
    [DataRow("models", "tiny-llama-F16.gguf")]
    [DataRow("models", "tiny-qwen2-Q8_0.gguf")]
    [DataRow("models", "tiny-llama-tied-Q8_0.gguf")]
    public void CopyReproducesTheFileByteForByte(params string[] parts)
    {
        string path = TestData.Path(parts);
        using var file = GgufFile.Open(path);
        byte[] original = File.ReadAllBytes(path);
        CollectionAssert.AreEqual(original, SampleGguf.ToBytes(GgufWriter.CopyFrom(file)));
    }

    [TestMethod]
    public void ReEncodingDecodedMetadataReproducesStories260K()
    {
        // Arrays are normally copied as stored bytes; here every array (512 tokens, scores, types) is decoded
        // into memory and encoded again by the writer, so the string-array encoding itself meets llama.cpp's.
        string path = TestData.Path("stories260K.gguf");
        using var file = GgufFile.Open(path);
        CollectionAssert.AreEqual(File.ReadAllBytes(path), SampleGguf.ToBytes(CopyDecoded(file)));
    }

    [TestMethod]
    public void CopyWrittenToDiskOpensAndMatches()
    {
        string path = TestData.Path("models", "tiny-llama-Q4_K_M.gguf");
        string dir = TestData.ScratchDirectory("gguf-copy");
        try
        {
            string copy = Path.Combine(dir, "copy.gguf");
            using (var file = GgufFile.Open(path)) GgufWriter.CopyFrom(file).WriteTo(copy);
            CollectionAssert.AreEqual(File.ReadAllBytes(path), File.ReadAllBytes(copy));
            using var reopened = GgufFile.Open(copy);
            GgufWriterTests.AssertCanonicalLayout(reopened, File.ReadAllBytes(copy));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Like <see cref="GgufWriter.CopyFrom"/>, but with every array decoded into an in-memory array.</summary>
    internal static GgufWriter CopyDecoded(GgufFile file)
    {
        var w = GgufWriter.CopyFrom(file);
        foreach (var (key, value) in file.MetadataInOrder) w.SetMetadata(key, Decode(value));
        return w;
    }

    private static GgufValue Decode(GgufValue value)
    {
        if (value.Type != GgufValueType.Array) return value;
        var array = value.AsArray();
        return GgufValue.FromArray(GgufArray.Of(array.ElementType, array.Elements().Select(Decode).ToArray()));
    }
}
