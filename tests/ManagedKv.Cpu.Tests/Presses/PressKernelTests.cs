using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Presses;

/// <summary>
/// The CPU press kernels against the scalar oracle on random inputs of awkward sizes (vector tails, windows wider
/// than the input, one channel, zero-range channels, f16 storage): the outputs must be bit-identical, and a warm
/// kernel call allocates nothing.
/// </summary>
[TestClass]
public sealed class PressKernelTests
{
    private static readonly ModelConfig Config = LoadConfig();

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(8)]
    [DataRow(37)]
    [DataRow(201)]
    public void HeadMeanIsBitIdentical(int tokens)
    {
        var statistics = RandomStatistics(6, tokens, seed: tokens);
        using var backend = new CpuBackend(1);
        foreach (var (first, count) in new[] { (0, 6), (2, 3), (5, 1) })
        {
            float[] expected = new float[tokens], actual = new float[tokens];
            AttentionScores.MeanOverHeads(statistics, first, count, expected);
            Assert.IsTrue(backend.TryMeanOverHeads(statistics, first, count, actual));
            AssertBits(expected, actual, $"heads {first}+{count}");
        }
    }

    [TestMethod]
    public void AveragePoolIsBitIdentical()
    {
        using var backend = new CpuBackend(1);
        var rng = new Random(7);
        foreach (int n in new[] { 0, 1, 2, 3, 4, 8, 9, 16, 37, 137 })
            foreach (int kernel in new[] { 1, 3, 5, 7, 9, 11 })
            {
                // Magnitudes spread over many binades, so a different summation order would show in the last bits.
                var input = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * Math.Pow(10, rng.Next(-6, 2)))).ToArray();
                float[] expected = new float[n], actual = new float[n];
                AttentionScores.AveragePool(input, kernel, expected);
                Assert.IsTrue(backend.TryAveragePool(input, kernel, actual));
                AssertBits(expected, actual, $"n {n} kernel {kernel}");
            }
    }

    [TestMethod]
    [DataRow(KvStorageType.F32, 8, 33)]
    [DataRow(KvStorageType.F32, 64, 8)]
    [DataRow(KvStorageType.F32, 67, 7)]
    [DataRow(KvStorageType.F32, 1, 5)]
    [DataRow(KvStorageType.F16, 8, 41)]
    public void KnormScoresAreBitIdentical(KvStorageType storage, int width, int tokens)
    {
        var cache = RandomCache(storage, width, tokens, seed: width * 100 + tokens, constantChannel: false);
        using var backend = new CpuBackend(1);
        var press = new KnormPress();
        float[] expected = new float[tokens], actual = new float[tokens];
        press.Score(new PressContext(0, cache, Config, CompressionPhase.Prefill), 0, expected);
        Assert.IsTrue(backend.TryScore(press, new PressContext(0, cache, Config, CompressionPhase.Prefill, backend), 0, actual));
        AssertBits(expected, actual, $"{storage} width {width}");
    }

    [TestMethod]
    [DataRow(KvStorageType.F32, 8, 32, 4, 1.0)]
    [DataRow(KvStorageType.F32, 64, 5, 0, 0.5)]
    [DataRow(KvStorageType.F32, 3, 1, 2, 1.0)]
    [DataRow(KvStorageType.F32, 1, 6, 1, 2.0)]
    [DataRow(KvStorageType.F16, 16, 9, 3, 1.0)]
    public void LagKvPartitionScoresAreBitIdentical(KvStorageType storage, int width, int lag, int start, double ratio)
    {
        // One channel constant over the reference: its zero range must normalise to 0 on both paths.
        var cache = RandomCache(storage, width, start + 2 * lag, seed: width + lag, constantChannel: width > 1);
        var head = cache.Head(0, 0);
        using var backend = new CpuBackend(1);
        float[] expected = new float[lag], actual = new float[lag];
        LagKvScoring.Score(Rows(head.Keys, start, lag), Rows(head.Keys, start + lag, lag), width,
            Rows(head.Values, start, lag), Rows(head.Values, start + lag, lag), width, ratio, expected);
        var context = new PressContext(0, cache, Config, CompressionPhase.Prefill, backend);
        Assert.IsTrue(backend.TryScoreLagPartitions(context, 0, start, 1, lag, ratio, actual));
        AssertBits(expected, actual, $"{storage} width {width} lag {lag}");
    }

    [TestMethod]
    public void WarmKernelsAllocateNothing()
    {
        var cache = RandomCache(KvStorageType.F16, 16, 96, seed: 3, constantChannel: true);
        var statistics = RandomStatistics(4, 96, seed: 3);
        using var backend = new CpuBackend(1);
        var press = new KnormPress();
        var context = new PressContext(0, cache, Config, CompressionPhase.Prefill, backend);
        float[] scores = new float[96], pooled = new float[96];
        void Run()
        {
            backend.TryScore(press, context, 0, scores);
            backend.TryMeanOverHeads(statistics, 0, 4, scores);
            backend.TryAveragePool(scores, 5, pooled);
            backend.TryScoreLagPartitions(context, 0, 0, 1, 48, 1.0, scores);
        }
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.AreEqual(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [TestMethod]
    public void ThePortableBackendLeavesPressesOnTheirScalarCode()
    {
        using var portable = new CpuBackend(1, portable: true);
        var statistics = RandomStatistics(2, 8, seed: 1);
        Assert.IsFalse(portable.TryMeanOverHeads(statistics, 0, 2, new float[8]));
        Assert.IsFalse(portable.TryAveragePool(new float[8], 3, new float[8]));
    }

    /// <summary>Per query head, random probabilities-like sums over <paramref name="tokens"/> tokens.</summary>
    private static AttentionStatistics RandomStatistics(int heads, int tokens, int seed)
    {
        var rng = new Random(seed);
        var statistics = new AttentionStatistics(heads);
        statistics.Begin(new PositionRange(0, Math.Max(tokens, 1)), 0);
        for (int h = 0; h < heads; h++)
        {
            var sums = statistics.Accumulator(h, tokens);
            for (int j = 0; j < tokens; j++) sums[j] = (float)(rng.NextDouble() * Math.Pow(10, rng.Next(-5, 1)));
        }
        return statistics;
    }

    /// <summary>One layer, one KV head of <paramref name="tokens"/> random keys and values of <paramref name="width"/> channels.</summary>
    private static KvCache RandomCache(KvStorageType storage, int width, int tokens, int seed, bool constantChannel)
    {
        var rng = new Random(seed);
        var cache = new KvCache(1, 1, width, width, storage);
        var key = new float[width];
        var value = new float[width];
        for (int t = 0; t < tokens; t++)
        {
            for (int c = 0; c < width; c++)
            {
                key[c] = (float)(TestMatrix.Normal(rng) * (1 + c % 5));
                value[c] = (float)(TestMatrix.Normal(rng) * 0.1);
            }
            if (constantChannel) key[0] = value[0] = 0.5f;
            cache.Append(0, 0, t, key, value);
        }
        return cache;
    }

    private static float[] Rows(KvRows rows, int start, int count)
    {
        var data = new float[count * rows.Width];
        for (int i = 0; i < count; i++) rows.Read(start + i, data.AsSpan(i * rows.Width, rows.Width));
        return data;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]),
                $"{what}: element {i}: oracle {expected[i]:R}, kernel {actual[i]:R}");
    }

    private static ModelConfig LoadConfig()
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        return source.Config;
    }
}
