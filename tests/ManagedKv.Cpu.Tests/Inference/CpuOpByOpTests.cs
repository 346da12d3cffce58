using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// Every operation of the CPU backend against the reference backend (itself bit-exact with llama.cpp) on the
/// 201-token story prompt, each from identical inputs: for these weight types every output is bit-identical
/// (activation quantisation, integer kernels and their f32 steps, RoPE, softmax, SwiGLU). Types left out still
/// differ in the last bit of some matrix products (their summation order differs from the kernel llama.cpp picks:
/// F32/F16/BF16 single-row vec_dot, Q4_0 and Q2_K repacked GEMM, Q3_K) and are covered by the logit tolerance of
/// <see cref="CpuBackendGoldenTests"/>.
/// </summary>
[TestClass]
public sealed class CpuOpByOpTests
{
    [TestMethod]
    [DataRow("tiny-llama-Q8_0")]
    [DataRow("tiny-llama-Q4_1")]
    [DataRow("tiny-llama-Q5_0")]
    [DataRow("tiny-llama-Q5_1")]
    [DataRow("tiny-llama-Q4_K_M")]
    [DataRow("tiny-llama-Q5_K_M")]
    [DataRow("tiny-llama-Q6_K")]
    public void EveryOperationMatchesTheReferenceBitForBit(string model)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        var backend = new OpByOpBackend(new CpuBackend(2), new ReferenceBackend());
        using var transformer = new Transformer(source, backend);
        new Session(transformer).Prefill(golden.PromptTokens("story"));
        Assert.AreEqual(0, backend.Log.Count, $"{model}: operations differing from the reference:\n{string.Join('\n', backend.Log)}");
    }

    /// <summary>
    /// The same with an f16 KV cache: the attention kernels read f16 keys and values through their own loads
    /// (the batched score and value-sum tiles as well as the row-by-row paths), and must still give the
    /// reference's bits, with one decoded token after the prefill for the single-row path.
    /// </summary>
    [TestMethod]
    [DataRow("tiny-llama-Q8_0")]
    [DataRow("tiny-qwen2-Q8_0")]
    public void AttentionOverAnF16CacheMatchesTheReferenceBitForBit(string model)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        var backend = new OpByOpBackend(new CpuBackend(2), new ReferenceBackend());
        using var transformer = new Transformer(source, backend);
        var session = new Session(transformer, KvStorageType.F16);
        var logits = session.Prefill(golden.PromptTokens("story"));
        session.Decode(ModelRun.ArgMax(logits));
        Assert.AreEqual(0, backend.Log.Count, $"{model}: operations differing from the reference:\n{string.Join('\n', backend.Log)}");
    }
}
