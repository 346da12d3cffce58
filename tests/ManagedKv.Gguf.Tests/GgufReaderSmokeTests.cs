using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests;

[TestClass]
public sealed class GgufReaderSmokeTests
{
    [TestMethod]
    public void OpensStories260K()
    {
        using var file = GgufFile.Open(TestData.Path("stories260K.gguf"));
        Assert.AreEqual(3u, file.Version);
        Assert.AreEqual("llama", file.GetString("general.architecture"));
        Assert.AreEqual(5, file.GetInt32("llama.block_count"));
        Assert.AreEqual(64, file.GetInt32("llama.embedding_length"));
        var tokens = file.GetArray("tokenizer.ggml.tokens")!.ToStringArray();
        Assert.AreEqual(512, tokens.Length);
        var scores = file.GetArray("tokenizer.ggml.scores")!.ToSingleArray();
        Assert.AreEqual(512, scores.Length);
        var embd = file.GetTensor("token_embd.weight");
        CollectionAssert.AreEqual(new long[] { 64, 512 }, embd.Dimensions);
        Assert.AreEqual(GgmlType.F32, embd.Type);
        Assert.AreEqual(64 * 512 * 4, file.GetTensorBytes(embd).Length);
    }
}

[TestClass]
public sealed class GgufVersionTests
{
    /// <summary>
    /// GGUF v2 and v3 share one layout (v3 only added big-endian files), so a v2 file is a v3 file with
    /// version 2 in the header: it must open and read identically.
    /// </summary>
    [TestMethod]
    public void Version2FileReadsLikeVersion3()
    {
        byte[] v3 = File.ReadAllBytes(TestData.Path("stories260K.gguf"));
        byte[] v2 = (byte[])v3.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(v2.AsSpan(4), 2);
        using var a = GgufFile.FromBytes(v3, "v3");
        using var b = GgufFile.FromBytes(v2, "v2");
        Assert.AreEqual(2u, b.Version);
        CollectionAssert.AreEqual(a.Metadata.Keys.ToList(), b.Metadata.Keys.ToList());
        CollectionAssert.AreEqual(a.GetArray("tokenizer.ggml.tokens")!.ToStringArray(), b.GetArray("tokenizer.ggml.tokens")!.ToStringArray());
        Assert.AreEqual(a.Tensors.Count, b.Tensors.Count);
        foreach (var t in a.Tensors)
            Assert.IsTrue(a.GetTensorBytes(t).SequenceEqual(b.GetTensorBytes(b.GetTensor(t.Name))), t.Name);
    }
}
