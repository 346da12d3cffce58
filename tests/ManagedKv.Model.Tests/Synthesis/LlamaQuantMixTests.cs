using ManagedKv.Gguf;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Synthesis;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Synthesis;

/// <summary>The per-tensor type choice against what llama-quantize actually wrote (testdata and golden README §10).</summary>
[TestClass]
public sealed class LlamaQuantMixTests
{
    public static IEnumerable<object[]> QuantizedReferenceFiles =>
    [
        .. new[] { "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q5_K_M", "Q6_K", "Q2_K", "Q3_K_M" }
            .Select(t => new object[] { "tiny-llama-F32.gguf", $"tiny-llama-{t}.gguf" }),
        ["tiny-llama-tied-F32.gguf", "tiny-llama-tied-Q8_0.gguf"],
        ["tiny-qwen2-F32.gguf", "tiny-qwen2-Q8_0.gguf"],
    ];

    [TestMethod]
    [DynamicData(nameof(QuantizedReferenceFiles))]
    public void ChoosesWhatLlamaQuantizeChose(string source, string quantized)
    {
        using var src = ModelSource.Open(TestData.Path("models", source));
        using var dst = GgufFile.Open(TestData.Path("models", quantized));
        var fileType = (LlamaFileType)dst.GetInt32("general.file_type")!.Value;
        var chosen = LlamaQuantMix.Choose(fileType, src.Config,
            src.Gguf!.Tensors.Select(t => new SourceTensor(t.Name, t.Dimensions, t.Type)));

        Assert.AreEqual(dst.Tensors.Count, chosen.Count);
        foreach (var t in dst.Tensors)
            Assert.AreEqual(t.Type, chosen[t.Name], $"{quantized}: {t.Name}");
        // llama-quantize writes tensors in its processing order; the comparer must reproduce it.
        var names = dst.Tensors.Select(t => t.Name).ToList();
        CollectionAssert.AreEqual(names, names.OrderBy(n => n, Comparer<string>.Create(LlamaQuantMix.CompareTensorNames)).ToList());
    }

    [TestMethod]
    public void SmolLm2Q4KMFallsBackForRowsOf576AsLlamaQuantizeDid()
    {
        // Golden README §10: token_embd Q8_0; q, k, attn_output, gate, up Q5_0; attn_v Q8_0 ×14 and Q5_0 ×16;
        // ffn_down (rows of 1536) Q6_K ×14 and Q4_K ×16.
        var types = Choose(SyntheticShape.SmolLm2_135M, LlamaFileType.Q4_K_M);
        Assert.AreEqual(GgmlType.Q8_0, types["token_embd.weight"]);
        Assert.IsFalse(types.ContainsKey("output.weight"));
        foreach (string part in new[] { "attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up" })
            Assert.IsTrue(Blocks(types, part).All(t => t == GgmlType.Q5_0), part);
        AssertCounts(Blocks(types, "attn_v"), (GgmlType.Q8_0, 14), (GgmlType.Q5_0, 16));
        AssertCounts(Blocks(types, "ffn_down"), (GgmlType.Q6_K, 14), (GgmlType.Q4_K, 16));
        Assert.IsTrue(types.Where(kv => kv.Key.Contains("_norm")).All(kv => kv.Value == GgmlType.F32));
    }

    [TestMethod]
    public void Llama32Q4KMMatchesLlamaQuantize()
    {
        // Golden README §10: token_embd Q6_K, attn_v and ffn_down Q6_K ×8 and Q4_K ×8, everything else Q4_K.
        var types = Choose(SyntheticShape.Llama32_1B, LlamaFileType.Q4_K_M);
        Assert.AreEqual(GgmlType.Q6_K, types["token_embd.weight"]);
        AssertCounts(Blocks(types, "attn_v"), (GgmlType.Q6_K, 8), (GgmlType.Q4_K, 8));
        AssertCounts(Blocks(types, "ffn_down"), (GgmlType.Q6_K, 8), (GgmlType.Q4_K, 8));
        foreach (string part in new[] { "attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up" })
            Assert.IsTrue(Blocks(types, part).All(t => t == GgmlType.Q4_K), part);
    }

    [TestMethod]
    [DataRow("smollm2-135m")]
    [DataRow("llama-3.2-1b")]
    [DataRow("qwen2.5-0.5b")]
    public void Q8_0IsQ8_0EverywhereExceptOneDimensionalTensors(string shape)
    {
        var types = Choose(SyntheticShape.Find(shape)!, LlamaFileType.Q8_0);
        foreach (var (name, type) in types)
            Assert.AreEqual(name.EndsWith("_norm.weight") || name.EndsWith(".bias") ? GgmlType.F32 : GgmlType.Q8_0, type, name);
    }

    [TestMethod]
    public void KQuantFallbacksFollowLlamaCppsTable()
    {
        // Rows of 576 fit no K-quant: Q2_K/Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0.
        var smol = SyntheticShape.SmolLm2_135M;
        Assert.AreEqual(GgmlType.Q4_0, Choose(smol, LlamaFileType.Q2_K)["blk.0.attn_q.weight"]);
        Assert.AreEqual(GgmlType.Q4_0, Choose(smol, LlamaFileType.Q3_K_M)["blk.0.ffn_gate.weight"]);
        Assert.AreEqual(GgmlType.Q5_1, Choose(smol, LlamaFileType.Q5_K_M)["blk.0.attn_q.weight"]);
        Assert.AreEqual(GgmlType.Q8_0, Choose(smol, LlamaFileType.Q6_K)["blk.0.attn_q.weight"]);
        Assert.AreEqual(GgmlType.Q8_0, Choose(smol, LlamaFileType.Q4_0)["token_embd.weight"]);   // tied → Q6_K → Q8_0
        // Rows of 1536 (ffn_down) do fit: Q2_K's ffn_down is Q3_K, Q3_K_M's first n/16 layers Q5_K then Q4_K.
        Assert.AreEqual(GgmlType.Q3_K, Choose(smol, LlamaFileType.Q2_K)["blk.7.ffn_down.weight"]);
        Assert.AreEqual(GgmlType.Q5_K, Choose(smol, LlamaFileType.Q3_K_M)["blk.0.ffn_down.weight"]);
        Assert.AreEqual(GgmlType.Q4_K, Choose(smol, LlamaFileType.Q3_K_M)["blk.2.ffn_down.weight"]);
        // attn_v for Q2_K depends on the GQA factor: 3 for SmolLM2 (Q3_K → Q4_0 here), 4 for Llama 3.2 (Q4_K).
        Assert.AreEqual(GgmlType.Q4_0, Choose(smol, LlamaFileType.Q2_K)["blk.0.attn_v.weight"]);
        Assert.AreEqual(GgmlType.Q4_K, Choose(SyntheticShape.Llama32_1B, LlamaFileType.Q2_K)["blk.0.attn_v.weight"]);
        // Separate output.weight: Q4_0 mixes give it Q6_K (testdata shows it for tiny-llama).
        Assert.AreEqual(GgmlType.Q6_K, Choose(SyntheticShape.Tiny, LlamaFileType.Q4_0)["output.weight"]);
        Assert.AreEqual(GgmlType.Q4_0, Choose(SyntheticShape.Tiny, LlamaFileType.Q4_0)["token_embd.weight"]);
        // The _S and _L mixes.
        var llama = SyntheticShape.Llama32_1B;
        AssertCounts(Blocks(Choose(llama, LlamaFileType.Q4_K_S), "attn_v"), (GgmlType.Q5_K, 4), (GgmlType.Q4_K, 12));
        AssertCounts(Blocks(Choose(llama, LlamaFileType.Q4_K_S), "ffn_down"), (GgmlType.Q5_K, 2), (GgmlType.Q4_K, 14));
        Assert.IsTrue(Blocks(Choose(llama, LlamaFileType.Q3_K_L), "attn_v").All(t => t == GgmlType.Q5_K));
        Assert.IsTrue(Blocks(Choose(llama, LlamaFileType.Q3_K_S), "ffn_down").All(t => t == GgmlType.Q3_K));
    }

    [TestMethod]
    public void UseMoreBitsSelectsTheFirstAndLastEighthAndEveryThirdLayerBetween()
    {
        Assert.AreEqual(14, Enumerable.Range(0, 30).Count(i => LlamaQuantMix.UseMoreBits(i, 30)));
        Assert.AreEqual(8, Enumerable.Range(0, 16).Count(i => LlamaQuantMix.UseMoreBits(i, 16)));
        CollectionAssert.AreEqual(new[] { 0, 1, 4, 7, 10, 13, 14, 15 }, Enumerable.Range(0, 16).Where(i => LlamaQuantMix.UseMoreBits(i, 16)).ToArray());
        CollectionAssert.AreEqual(new[] { 1 }, Enumerable.Range(0, 2).Where(i => LlamaQuantMix.UseMoreBits(i, 2)).ToArray());
    }

    [TestMethod]
    public void TensorOrderIsNumericByBlockThenOrdinal()
    {
        string[] names = ["blk.10.attn_k.weight", "token_embd.weight", "blk.2.ffn_up.weight", "blk.2.attn_q.weight", "output.weight", "output_norm.weight"];
        var sorted = names.OrderBy(n => n, Comparer<string>.Create(LlamaQuantMix.CompareTensorNames)).ToArray();
        CollectionAssert.AreEqual(new[] { "output.weight", "output_norm.weight", "token_embd.weight", "blk.2.attn_q.weight", "blk.2.ffn_up.weight", "blk.10.attn_k.weight" }, sorted);
    }

    [TestMethod]
    public void RowsThatFitNoFallbackAreRefused()
    {
        var config = SyntheticShape.Tiny.Config;
        var odd = new SourceTensor("blk.0.attn_q.weight", [48, 256], GgmlType.F32);   // 48 is not a multiple of 32
        var e = Assert.ThrowsExactly<ArgumentException>(() => LlamaQuantMix.Choose(LlamaFileType.Q8_0, config, [odd]));
        StringAssert.Contains(e.Message, "blk.0.attn_q.weight");
        // Q4_K → Q5_0 does not fit 48 either, so llama.cpp settles for F16.
        Assert.AreEqual(GgmlType.F16, LlamaQuantMix.Choose(LlamaFileType.Q4_K_M, config, [odd])["blk.0.attn_q.weight"]);
    }

    private static IReadOnlyDictionary<string, GgmlType> Choose(SyntheticShape shape, LlamaFileType fileType) =>
        new ModelSynthesizer(shape, fileType, TestData.Path("stories260K.gguf")).Tensors.ToDictionary(t => t.Name, t => t.Type);

    private static List<GgmlType> Blocks(IReadOnlyDictionary<string, GgmlType> types, string part) =>
        types.Where(kv => kv.Key.StartsWith("blk.") && kv.Key.Contains("." + part + ".weight")).Select(kv => kv.Value).ToList();

    private static void AssertCounts(List<GgmlType> types, params (GgmlType Type, int Count)[] expected)
    {
        foreach (var (type, count) in expected)
            Assert.AreEqual(count, types.Count(t => t == type), $"{type} count in [{string.Join(", ", types)}]");
        Assert.AreEqual(expected.Sum(e => e.Count), types.Count);
    }
}
