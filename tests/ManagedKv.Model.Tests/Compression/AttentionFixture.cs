using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>Hand-made caches and attention statistics for the attention-scored presses' unit tests.</summary>
internal static class AttentionFixture
{
    private static readonly Lazy<ModelConfig> LazyConfig = new(() =>
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        return source.Config;
    });

    /// <summary>Any config (the presses under test read only the cache and the statistics).</summary>
    public static ModelConfig AnyConfig => LazyConfig.Value;

    /// <summary>A one-layer cache whose KV head h holds <paramref name="positionsPerHead"/>[h] (keys and values carry the position).</summary>
    public static KvCache HandCache(params int[][] positionsPerHead)
    {
        var cache = new KvCache(layers: 1, kvHeads: positionsPerHead.Length, keyDim: 2, valueDim: 1);
        for (int h = 0; h < positionsPerHead.Length; h++)
            foreach (int p in positionsPerHead[h]) Append(cache, h, p);
        return cache;
    }

    /// <summary>Appends the token at <paramref name="position"/> to KV head <paramref name="kvHead"/> of layer 0.</summary>
    public static void Append(KvCache cache, int kvHead, int position) => cache.Append(0, kvHead, position, [position, 1], [position]);

    /// <summary>Statistics of a call over <paramref name="call"/> summing queries from <paramref name="firstQuery"/>, with the given per-query-head sums.</summary>
    public static AttentionStatistics Statistics(PositionRange call, int firstQuery, params float[][] sumsPerQueryHead)
    {
        var statistics = new AttentionStatistics(sumsPerQueryHead.Length);
        statistics.Begin(call, firstQuery);
        for (int h = 0; h < sumsPerQueryHead.Length; h++) sumsPerQueryHead[h].CopyTo(statistics.Accumulator(h, sumsPerQueryHead[h].Length));
        return statistics;
    }

    /// <summary>The context a press sees for layer 0.</summary>
    public static PressContext Context(KvCache cache, CompressionPhase phase, AttentionStatistics statistics) =>
        new(0, cache, AnyConfig, phase, null, statistics);

    /// <summary>Positions KV head <paramref name="kvHead"/> of layer 0 holds.</summary>
    public static int[] Positions(KvCache cache, int kvHead = 0) => cache.Head(0, kvHead).Positions.ToArray();

    /// <summary>Asserts doubles equal within <paramref name="tolerance"/>.</summary>
    public static void AssertClose(double[] expected, ReadOnlySpan<double> actual, double tolerance = 1e-6)
    {
        Assert.AreEqual(expected.Length, actual.Length, "length");
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], tolerance, $"entry {i}");
    }

    /// <summary>Asserts floats equal within <paramref name="tolerance"/>.</summary>
    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tolerance = 1e-6)
    {
        Assert.AreEqual(expected.Length, actual.Length, "length");
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], tolerance, $"entry {i}");
    }
}
