using ManagedKv.Cpu;
using ManagedKv.Gpu.Device;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Gpu.Tests.Inference;

/// <summary>Runs a model greedily on the GPU backend and on the CPU backend and compares logits and tokens.</summary>
internal static class ModelParity
{
    /// <summary>A fixed prompt of token ids valid in every test model (vocabulary 512).</summary>
    public static readonly int[] Prompt = [1, 403, 261, 300, 42, 17, 290, 88];

    /// <summary>
    /// Logit tolerance: |gpu − cpu| ≤ 1.5e-2 · (1 + max |cpu logit|). Measured on the CPU accelerator: F32/F16, the
    /// K-quants, Q4_0/Q4_1 and stories260K stay within 2e-3; Q8_0, Q5_0, Q5_1 and BF16 reach about 1e-2 (max |Δ| 0.039
    /// at logits of magnitude 3.3), from float summation order, exp/sqrt and flipped Q8 activation codes downstream.
    /// </summary>
    public const float RelativeTolerance = 1.5e-2f;

    public static string ModelPath(string model) =>
        model == "stories260K" ? TestData.Path("stories260K.gguf") : TestData.Path("models", model + ".gguf");

    /// <summary>Prefill then <paramref name="steps"/> greedy decode steps on both backends; asserts equal tokens and close logits.</summary>
    public static void AssertSameGreedyRun(string model, GpuDeviceKind device, int steps)
    {
        if (device == GpuDeviceKind.Cpu) SharedCpuAccelerator.Use(gpu => AssertSameGreedyRun(model, gpu, steps));
        else
        {
            using var gpu = new GpuBackend(device);
            AssertSameGreedyRun(model, gpu, steps);
        }
    }

    private static void AssertSameGreedyRun(string model, GpuBackend gpuBackend, int steps)
    {
        using var source = ModelSource.Open(ModelPath(model));
        using var cpuBackend = new CpuBackend(1);
        using var cpuModel = new Transformer(source, cpuBackend, maxBatch: 8);
        using var gpuModel = new Transformer(source, gpuBackend, maxBatch: 8);
        var cpu = new Session(cpuModel);
        var gpu = new Session(gpuModel);
        var cpuLogits = cpu.Prefill(Prompt).ToArray();
        var gpuLogits = gpu.Prefill(Prompt).ToArray();
        for (int step = 0; ; step++)
        {
            AssertClose(cpuLogits, gpuLogits, $"{model} step {step}");
            int token = ArgMax(cpuLogits);
            Assert.AreEqual(token, ArgMax(gpuLogits), $"{model} step {step}: greedy tokens differ");
            if (step == steps) break;
            cpuLogits = cpu.Decode(token).ToArray();
            gpuLogits = gpu.Decode(token).ToArray();
        }
        Assert.AreEqual(cpu.Cache.TokenCount, gpu.Cache.TokenCount);
        Assert.AreEqual(cpu.Cache.ByteCount, gpu.Cache.ByteCount, "device rows count the same bytes as host rows");
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        float scale = 0, worst = 0;
        foreach (float v in expected) scale = MathF.Max(scale, MathF.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsTrue(float.IsFinite(actual[i]), $"{what}: value {i} is {actual[i]}");
            worst = MathF.Max(worst, MathF.Abs(expected[i] - actual[i]));
        }
        Console.WriteLine($"{what}: max |Δ| {worst} = {worst / (1 + scale):G3} · (1 + {scale})");
        Assert.IsTrue(worst <= RelativeTolerance * (1 + scale), $"{what}: max |Δ| {worst} exceeds {RelativeTolerance} · (1 + {scale})");
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
