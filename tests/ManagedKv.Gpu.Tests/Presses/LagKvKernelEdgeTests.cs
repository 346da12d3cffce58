using ILGPU;
using ILGPU.Runtime.CPU;
using ManagedKv.Gpu.Presses;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Gpu.Tests.Presses;

/// <summary>
/// LagKV's kernel on hand-made rows where the stated deviations apply: a key channel whose reference range is zero
/// (normalised to 0, not NaN) and single-channel values (deviation 0, so the value softmax is uniform). A lag longer
/// than the CPU device's 16-thread group makes the reduction loop stride.
/// </summary>
[TestClass]
public sealed class LagKvKernelEdgeTests
{
    [TestMethod]
    public void ZeroRangesAndSingleChannelsMatchTheOracle()
    {
        const int lag = 20, partitions = 2;
        var cache = new KvCache(layers: 1, kvHeads: 1, keyDim: 3, valueDim: 1);
        for (int t = 0; t < (partitions + 1) * lag; t++)
            cache.Append(0, 0, t, [MathF.Sin(t), 7f /* constant: zero range */, (t * 37 % 11) / 3f], [t % 5]);
        var context = new PressContext(0, cache, Config(), CompressionPhase.Prefill);

        var oracle = new float[partitions * lag];
        LagKvScoring.ScorePartitions(cache.Head(0, 0), 0, partitions, lag, 0.75, oracle);
        using var ilgpu = Context.Create(b => b.CPU().EnableAlgorithms());
        using var accelerator = ilgpu.CreateCPUAccelerator(0);
        using var kernels = new GpuPressScoring(accelerator);
        var scores = new float[partitions * lag];
        Assert.IsTrue(kernels.TryScoreLagPartitions(context, 0, 0, partitions, lag, 0.75, scores));

        Assert.IsTrue(oracle.All(float.IsFinite), "the oracle itself must not produce NaN here");
        for (int i = 0; i < scores.Length; i++) Assert.AreEqual(oracle[i], scores[i], 1e-6f * Math.Abs(oracle[i]), $"token {i}");
        // Each partition: key softmax sums to 1, the uniform value softmax adds 0.75 in all.
        for (int p = 0; p < partitions; p++) Assert.AreEqual(1.75, scores.Skip(p * lag).Take(lag).Sum(x => (double)x), 1e-5);
    }

    [TestMethod]
    public void PressesWithoutPerTokenWorkHaveNoKernel()
    {
        using var ilgpu = Context.Create(b => b.CPU().EnableAlgorithms());
        using var accelerator = ilgpu.CreateCPUAccelerator(0);
        using var kernels = new GpuPressScoring(accelerator);
        var cache = new KvCache(layers: 1, kvHeads: 1, keyDim: 2, valueDim: 2);
        var context = new PressContext(0, cache, Config(), CompressionPhase.Prefill);
        Assert.IsFalse(kernels.TryScore(new RandomPress(), context, 0, new float[1]));
        Assert.IsFalse(kernels.TryScore(new StreamingLlmPress(), context, 0, new float[1]));
    }

    private static ModelConfig Config()
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        return source.Config;
    }
}
