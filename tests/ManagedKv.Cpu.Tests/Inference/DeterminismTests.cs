using ManagedKv.Model.Cache;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// Logits are bit-identical for 1, 2 and 3 threads and across runs: work is split into blocks that depend only
/// on tensor shapes, and each output is computed by the same code on whichever thread. The 201-token prompt
/// exercises the batched (prefill) kernels and attention, the decoded tokens the single-token paths.
/// </summary>
[TestClass]
public sealed class DeterminismTests
{
    [TestMethod]
    [DataRow("tiny-llama-Q4_K_M", KvStorageType.F32)]
    [DataRow("tiny-llama-Q8_0", KvStorageType.F16)]
    [DataRow("tiny-llama-Q5_1", KvStorageType.F32)]
    [DataRow("tiny-llama-F16", KvStorageType.F16)]
    [DataRow("tiny-qwen2-F32", KvStorageType.F32)]
    public void LogitsBitIdenticalAcrossThreadCountsAndRuns(string model, KvStorageType storage)
    {
        var baseline = ModelRun.Greedy(() => new CpuBackend(1), model, "story", steps: 6, storage);
        foreach (int threads in new[] { 2, 3, 2 })
        {
            var run = ModelRun.Greedy(() => new CpuBackend(threads), model, "story", steps: 6, storage);
            CollectionAssert.AreEqual(baseline.Tokens, run.Tokens, $"{model}: tokens with {threads} threads");
            for (int s = 0; s < baseline.Logits.Length; s++)
                for (int i = 0; i < baseline.Logits[s].Length; i++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(baseline.Logits[s][i]), BitConverter.SingleToInt32Bits(run.Logits[s][i]),
                        $"{model}, {threads} threads, step {s}, logit {i}: {run.Logits[s][i]} vs {baseline.Logits[s][i]} with 1 thread");
        }
    }
}
