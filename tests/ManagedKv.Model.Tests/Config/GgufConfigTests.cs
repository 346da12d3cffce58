using ManagedKv.Gguf;
using ManagedKv.Model.Config;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Config;

/// <summary>
/// ModelConfig from the real test models; expected values are the table in shared/golden/README.md §3
/// (what the files were generated with and what llama.cpp loaded).
/// </summary>
[TestClass]
public sealed class GgufConfigTests
{
    public static IEnumerable<object[]> TinyLlamaFiles =>
        new[] { "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q5_K_M", "Q6_K", "Q2_K", "Q3_K_M" }
            .Select(t => new object[] { $"tiny-llama-{t}.gguf" });

    private static ModelConfig Load(params string[] path)
    {
        using var file = GgufFile.Open(TestData.Path(path));
        return ModelConfig.FromGguf(file);
    }

    [TestMethod]
    public void Stories260K()
    {
        var c = Load("stories260K.gguf");
        Assert.AreEqual(ModelArchitecture.Llama, c.Architecture);
        Assert.AreEqual("llama", c.Name);
        Assert.AreEqual(512, c.VocabSize);          // no llama.vocab_size key: from tokenizer.ggml.tokens
        Assert.AreEqual(64, c.EmbeddingLength);
        Assert.AreEqual(5, c.BlockCount);
        Assert.AreEqual(8, c.HeadCount);
        Assert.AreEqual(4, c.KvHeadCount);
        Assert.AreEqual(8, c.HeadDim);
        Assert.AreEqual(8, c.ValueHeadDim);
        Assert.AreEqual(172, c.FeedForwardLength);
        Assert.AreEqual(2048, c.ContextLength);
        Assert.AreEqual(10000f, c.RopeFreqBase);    // key absent: llama.cpp's default
        Assert.AreEqual(8, c.RopeDimensionCount);
        Assert.AreEqual(RopeStyle.Norm, c.RopeStyle);
        Assert.AreEqual(RopeScaling.None, c.RopeScaling);
        Assert.AreEqual(1e-5f, c.RmsNormEps);
        Assert.IsFalse(c.TiedEmbeddings);
        Assert.IsFalse(c.HasQkvBias);
        Assert.IsFalse(c.HasRopeFrequencyFactors);
        Assert.AreEqual(2, c.GroupSize);
        Assert.AreEqual(64, c.QueryLength);
        Assert.AreEqual(32, c.KeyLength);
    }

    [TestMethod]
    [DynamicData(nameof(TinyLlamaFiles))]
    public void TinyLlamaEveryQuantization(string file)
    {
        var c = Load("models", file);
        AssertTiny(c, ModelArchitecture.Llama, "tiny-llama", ropeBase: 10000f, eps: 1e-5f, tied: false);
        Assert.AreEqual(RopeStyle.Norm, c.RopeStyle);
    }

    [TestMethod]
    [DataRow("tiny-llama-tied-F32.gguf")]
    [DataRow("tiny-llama-tied-Q8_0.gguf")]
    public void TinyLlamaTied(string file)
    {
        var c = Load("models", file);
        AssertTiny(c, ModelArchitecture.Llama, "tiny-llama-tied", ropeBase: 500000f, eps: 1e-5f, tied: true);
        Assert.AreEqual(RopeStyle.Norm, c.RopeStyle);
    }

    [TestMethod]
    [DataRow("tiny-qwen2-F32.gguf")]
    [DataRow("tiny-qwen2-Q8_0.gguf")]
    public void TinyQwen2(string file)
    {
        var c = Load("models", file);
        AssertTiny(c, ModelArchitecture.Qwen2, "tiny-qwen2", ropeBase: 1000000f, eps: 1e-6f, tied: false);
        Assert.AreEqual(RopeStyle.Neox, c.RopeStyle);
        Assert.IsTrue(c.HasQkvBias);
    }

    private static void AssertTiny(ModelConfig c, ModelArchitecture arch, string name, float ropeBase, float eps, bool tied)
    {
        Assert.AreEqual(arch, c.Architecture);
        Assert.AreEqual(name, c.Name);
        Assert.AreEqual(512, c.VocabSize);
        Assert.AreEqual(256, c.EmbeddingLength);
        Assert.AreEqual(2, c.BlockCount);
        Assert.AreEqual(4, c.HeadCount);
        Assert.AreEqual(2, c.KvHeadCount);
        Assert.AreEqual(64, c.HeadDim);
        Assert.AreEqual(64, c.ValueHeadDim);
        Assert.AreEqual(768, c.FeedForwardLength);
        Assert.AreEqual(2048, c.ContextLength);
        Assert.AreEqual(ropeBase, c.RopeFreqBase);
        Assert.AreEqual(64, c.RopeDimensionCount);
        Assert.AreEqual(RopeScaling.None, c.RopeScaling);
        Assert.AreEqual(eps, c.RmsNormEps);
        Assert.AreEqual(tied, c.TiedEmbeddings);
    }

    [TestMethod]
    public void WithContextLengthOverridesOnlyTheContext()
    {
        var c = Load("stories260K.gguf");
        var shorter = c.WithContextLength(512);
        Assert.AreEqual(512, shorter.ContextLength);
        Assert.AreEqual(2048, c.ContextLength);
        Assert.AreEqual(c, shorter with { ContextLength = 2048 });
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => c.WithContextLength(0));
    }

    [TestMethod]
    public void ArchitectureTableRows()
    {
        var llama = ArchitectureTable.Get(ModelArchitecture.Llama);
        Assert.AreEqual("llama", llama.GgufKeyPrefix);
        Assert.AreEqual("llama.attention.head_count", llama.GgufKey("attention.head_count"));
        Assert.AreEqual(RopeStyle.Norm, llama.GgufRopeStyle);
        Assert.AreEqual(RopeStyle.Neox, llama.HfRopeStyle);
        Assert.IsFalse(llama.HasQkvBias);
        var mistral = ArchitectureTable.Get(ModelArchitecture.Mistral);
        Assert.AreEqual("llama", mistral.GgufKeyPrefix);   // llama.cpp converts Mistral to arch "llama"
        Assert.AreEqual(RopeStyle.Norm, mistral.GgufRopeStyle);
        var qwen = ArchitectureTable.Get(ModelArchitecture.Qwen2);
        Assert.AreEqual(RopeStyle.Neox, qwen.GgufRopeStyle);
        Assert.IsTrue(qwen.HasQkvBias);
        Assert.IsTrue(ArchitectureTable.All.All(a => a.SupportsTiedEmbeddings));
        Assert.AreEqual(ModelArchitecture.Llama, ArchitectureTable.FromGguf("llama")!.Architecture);
        Assert.IsNull(ArchitectureTable.FromGguf("gpt2"));
        Assert.AreEqual(ModelArchitecture.Mistral, ArchitectureTable.FromHuggingFace(["MistralForCausalLM"], null)!.Architecture);
        Assert.AreEqual(ModelArchitecture.Qwen2, ArchitectureTable.FromHuggingFace(["Foo", "Qwen2ForCausalLM"], "llama")!.Architecture);
        Assert.AreEqual(ModelArchitecture.Llama, ArchitectureTable.FromHuggingFace(null, "llama")!.Architecture);
        Assert.AreEqual(ModelArchitecture.Llama, ArchitectureTable.FromHuggingFace([], "llama")!.Architecture);
        Assert.IsNull(ArchitectureTable.FromHuggingFace(["LlamaForSequenceClassification"], "llama"));
    }

    // ---- synthetic metadata: defaults, derivations and every validation rule ----

    private static ModelConfig FromImage(GgufImage image)
    {
        using var file = image.Open();
        return ModelConfig.FromGguf(file);
    }

    private static GgufFormatException Rejects(GgufImage image, string key)
    {
        using var file = image.Open();
        var e = Assert.ThrowsExactly<GgufFormatException>(() => ModelConfig.FromGguf(file));
        Assert.AreEqual($"metadata[\"{key}\"]", e.Field, e.Message);
        Assert.AreEqual("image.gguf", e.FileName);
        return e;
    }

    [TestMethod]
    public void SyntheticBaselineAndDefaults()
    {
        var c = FromImage(GgufImage.Llama()
            .Without("llama.attention.head_count_kv")
            .Without("llama.rope.dimension_count")
            .Without("llama.rope.freq_base")
            .Without("general.name"));
        Assert.AreEqual(4, c.KvHeadCount);                 // defaults to head_count
        Assert.AreEqual(8, c.HeadDim);                     // 32 / 4
        Assert.AreEqual(8, c.RopeDimensionCount);          // defaults to head_dim
        Assert.AreEqual(ModelConfig.DefaultRopeFreqBase, c.RopeFreqBase);
        Assert.AreEqual("image", c.Name);                  // file name without extension
    }

    [TestMethod]
    public void KeyLengthOverridesEmbeddingOverHeads()
    {
        var c = FromImage(GgufImage.Llama(withTensors: false)
            .U32("llama.embedding_length", 30)
            .U32("llama.attention.key_length", 16)
            .U32("llama.attention.value_length", 12)
            .Without("llama.rope.dimension_count"));
        Assert.AreEqual(16, c.HeadDim);
        Assert.AreEqual(12, c.ValueHeadDim);
        Assert.AreEqual(64, c.QueryLength);
        Assert.AreEqual(24, c.ValueLength);
        Assert.AreEqual(16, c.RopeDimensionCount);
    }

    [TestMethod]
    public void VocabularyFallsBackToTokensThenTokenEmbedding()
    {
        var fromTokens = FromImage(GgufImage.Llama().Without("llama.vocab_size").Strings("tokenizer.ggml.tokens", "a", "b", "c"));
        Assert.AreEqual(3, fromTokens.VocabSize);
        var fromTensor = FromImage(GgufImage.Llama().Without("llama.vocab_size"));
        Assert.AreEqual(16, fromTensor.VocabSize);
        Rejects(GgufImage.Llama(withTensors: false).Without("llama.vocab_size"), "llama.vocab_size");
    }

    [TestMethod]
    public void TiedWhenOutputWeightIsAbsent()
    {
        Assert.IsTrue(FromImage(GgufImage.Llama(tied: true)).TiedEmbeddings);
        Assert.IsFalse(FromImage(GgufImage.Llama()).TiedEmbeddings);
    }

    [TestMethod]
    public void RopeScalingFromMetadata()
    {
        Assert.AreEqual(RopeScaling.None, FromImage(GgufImage.Llama().F32("llama.rope.scaling.factor", 1f)).RopeScaling);
        Assert.AreEqual(RopeScaling.None, FromImage(GgufImage.Llama().Str("llama.rope.scaling.type", "none").F32("llama.rope.scaling.factor", 4f)).RopeScaling);
        Assert.AreEqual(new RopeScaling.Linear(4f), FromImage(GgufImage.Llama().Str("llama.rope.scaling.type", "linear").F32("llama.rope.scaling.factor", 4f)).RopeScaling);
        Assert.AreEqual(new RopeScaling.Linear(2f), FromImage(GgufImage.Llama().F32("llama.rope.scale_linear", 2f)).RopeScaling);   // legacy key, type defaults to linear
        var llama3 = FromImage(GgufImage.Llama()
            .Str("llama.rope.scaling.type", "llama3")
            .F32("llama.rope.scaling.factor", 32f)
            .F32("llama.rope.scaling.low_freq_factor", 1f)
            .F32("llama.rope.scaling.high_freq_factor", 4f)
            .U32("llama.rope.scaling.original_context_length", 8192)).RopeScaling;
        Assert.AreEqual(new RopeScaling.Llama3(32f, 1f, 4f, 8192), llama3);
        Assert.IsTrue(FromImage(GgufImage.Llama().Tensor("rope_freqs.weight", 4)).HasRopeFrequencyFactors);
    }

    [TestMethod]
    public void RopeScalingErrorsNameTheKey()
    {
        Rejects(GgufImage.Llama().Str("llama.rope.scaling.type", "yarn"), "llama.rope.scaling.type");
        Rejects(GgufImage.Llama().Str("llama.rope.scaling.type", "linear").F32("llama.rope.scaling.factor", -2f), "llama.rope.scaling.factor");
        Rejects(GgufImage.Llama().Str("llama.rope.scaling.type", "llama3").F32("llama.rope.scaling.factor", 8f)
            .F32("llama.rope.scaling.low_freq_factor", 1f).U32("llama.rope.scaling.original_context_length", 8192), "llama.rope.scaling.high_freq_factor");
        Rejects(GgufImage.Llama().Str("llama.rope.scaling.type", "llama3").F32("llama.rope.scaling.factor", 8f)
            .F32("llama.rope.scaling.low_freq_factor", 4f).F32("llama.rope.scaling.high_freq_factor", 1f)
            .U32("llama.rope.scaling.original_context_length", 8192), "llama.rope.scaling.high_freq_factor");
    }

    [TestMethod]
    [DataRow("general.architecture", "missing")]
    [DataRow("llama.embedding_length", "missing")]
    [DataRow("llama.block_count", "missing")]
    [DataRow("llama.attention.head_count", "missing")]
    [DataRow("llama.feed_forward_length", "missing")]
    [DataRow("llama.context_length", "missing")]
    [DataRow("llama.attention.layer_norm_rms_epsilon", "missing")]
    public void MissingRequiredKeyIsNamed(string key, string problem) =>
        StringAssert.Contains(Rejects(GgufImage.Llama().Without(key), key).Problem, problem);

    [TestMethod]
    public void WrongTypesAndValuesAreNamed()
    {
        Rejects(GgufImage.Llama().Str("general.architecture", "gpt2"), "general.architecture");
        Rejects(GgufImage.Llama().U32("general.architecture", 1), "general.architecture");
        Rejects(GgufImage.Llama().Str("llama.embedding_length", "256"), "llama.embedding_length");
        Rejects(GgufImage.Llama().F32("llama.block_count", 2f), "llama.block_count");
        Rejects(GgufImage.Llama().Strings("llama.attention.head_count_kv", "2", "2"), "llama.attention.head_count_kv");
        Rejects(GgufImage.Llama().I32("llama.attention.head_count", -4), "llama.attention.head_count");
        Rejects(GgufImage.Llama().U32("llama.block_count", 0), "llama.block_count");
        Rejects(GgufImage.Llama().U32("llama.feed_forward_length", uint.MaxValue), "llama.feed_forward_length");
        Rejects(GgufImage.Llama().F32("llama.attention.layer_norm_rms_epsilon", 0f), "llama.attention.layer_norm_rms_epsilon");
        Rejects(GgufImage.Llama().F32("llama.attention.layer_norm_rms_epsilon", float.NaN), "llama.attention.layer_norm_rms_epsilon");
        Rejects(GgufImage.Llama().F32("llama.rope.freq_base", -1f), "llama.rope.freq_base");
        Rejects(GgufImage.Llama().F32("llama.rope.freq_base", float.PositiveInfinity), "llama.rope.freq_base");
    }

    [TestMethod]
    public void HeadArithmeticIsChecked()
    {
        StringAssert.Contains(Rejects(GgufImage.Llama().U32("llama.attention.head_count_kv", 3), "llama.attention.head_count_kv").Problem, "multiple");
        Rejects(GgufImage.Llama().U32("llama.attention.head_count_kv", 8), "llama.attention.head_count_kv");
        StringAssert.Contains(Rejects(GgufImage.Llama().U32("llama.embedding_length", 30), "llama.embedding_length").Problem, "not divisible");
        Rejects(GgufImage.Llama().U32("llama.rope.dimension_count", 7), "llama.rope.dimension_count");
        Rejects(GgufImage.Llama().U32("llama.rope.dimension_count", 16), "llama.rope.dimension_count");
        Rejects(GgufImage.Llama().U32("llama.attention.key_length", 0x40000000), "llama.attention.key_length");
    }

    [TestMethod]
    public void Qwen2UsesItsOwnKeyPrefix()
    {
        var c = FromImage(GgufImage.Llama("qwen2"));
        Assert.AreEqual(ModelArchitecture.Qwen2, c.Architecture);
        Assert.AreEqual(RopeStyle.Neox, c.RopeStyle);
        Rejects(GgufImage.Llama("qwen2").Without("qwen2.block_count"), "qwen2.block_count");
    }
}
