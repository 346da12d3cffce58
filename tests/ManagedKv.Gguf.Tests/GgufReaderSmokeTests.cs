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
