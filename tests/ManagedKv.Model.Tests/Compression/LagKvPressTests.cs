using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// LagKV on a hand-made two-partition cache whose scores are worked out below: sink S = 1, lag L = 4, width 2,
/// 10 tokens = sink (index 0) + partition 0 (indices 1–4, scored) + partition 1 (5–8, the reference) + a
/// remainder (9). n = 10 ≥ S + 2L = 9, so P = ⌊(10 − 1)/4⌋ = 2 partitions, one of them scored.
/// </summary>
[TestClass]
public sealed class LagKvPressTests
{
    // Head 0. Reference keys (5–8): channel 0 = {0, 2, 1, 1} → min 0, max 2; channel 1 = {0, 4, 2, 2} → min 0, max 4.
    // Partition keys normalised (x0/2, x1/4): t1 (0,0)→(0,0), t2 (2,0)→(1,0), t3 (0,4)→(0,1), t4 (4,0)→(2,0).
    // Unbiased std of two channels is |a − b|/√2: 0, 1/√2, 1/√2, √2 (0, 0.70711, 0.70711, 1.41421).
    // Softmax: e^0 = 1, e^0.70711 = 2.028115, e^1.41421 = 4.113250; sum 9.169480 →
    // s_K = (0.109057434, 0.221181016, 0.221181016, 0.448580533).
    private static readonly float[][] Keys0 = [[9, 9], [0, 0], [2, 0], [0, 4], [4, 0], [0, 0], [2, 4], [1, 2], [1, 2], [7, 7]];

    // Reference values: channel 0 = {1, 3, 2, 2} → min 1, max 3; channel 1 = {5, 5, 5, 5}: zero range, normalises
    // to 0 (the stated deviation; the reference code would divide by zero).
    // Partition values normalised ((x0 − 1)/2, 0): t1 (3,7)→(1,0), t2 (1,9)→(0,0), t3 (1,0)→(0,0), t4 (1,5)→(0,0).
    // Std: 1/√2, 0, 0, 0. Softmax: (2.028115, 1, 1, 1)/5.028115 → s_V = (0.403354933, 0.198881689 ×3).
    private static readonly float[][] Values0 = [[9, 9], [3, 7], [1, 9], [1, 0], [1, 5], [1, 5], [3, 5], [2, 5], [2, 5], [7, 7]];

    // score = s_K + 1·s_V = (0.512412367, 0.420062705, 0.420062705, 0.647462222).
    private static readonly double[] Head0Score = [0.512412367, 0.420062705, 0.420062705, 0.647462222];

    // Head 1 holds head 0's partition-0 tokens in the order (t2, t4, t1, t3); everything else is the same.
    private static readonly int[] Head1Order = [0, 2, 4, 1, 3, 5, 6, 7, 8, 9];

    [TestMethod]
    public void StatesScoreIsTheSoftmaxOfTheStdOfTheNextPartitionNormalisedRows()
    {
        var keyScore = new double[4];
        LagKvScoring.StatesScore(Rows(Keys0, 1, 4), Rows(Keys0, 5, 4), 2, keyScore);
        AssertClose([0.109057434, 0.221181016, 0.221181016, 0.448580533], keyScore, 1e-9);

        var valueScore = new double[4];
        LagKvScoring.StatesScore(Rows(Values0, 1, 4), Rows(Values0, 5, 4), 2, valueScore);
        AssertClose([0.403354933, 0.198881689, 0.198881689, 0.198881689], valueScore, 1e-9);

        var score = new float[4];
        LagKvScoring.Score(Rows(Keys0, 1, 4), Rows(Keys0, 5, 4), 2, Rows(Values0, 1, 4), Rows(Values0, 5, 4), 2, 1.0, score);
        AssertClose(Head0Score, score.Select(s => (double)s).ToArray(), 1e-7);

        Assert.ThrowsExactly<ArgumentException>(() => LagKvScoring.StatesScore(Rows(Keys0, 1, 4), Rows(Keys0, 5, 4), 2, new double[3]));
    }

    [TestMethod]
    public void KeepsTheTopOfEachPartitionPerHeadWithSinkAndTailWhole()
    {
        var cache = HandCache();
        var press = new LagKvPress { Budget = new CompressionBudget { Compression = 0.5 }, Sink = 1, Lag = 4 };
        Assert.AreEqual(2, press.PartitionKeep, "int((1 − 0.5)·4)");
        var plan = (KeepPlan)press.CompressPrefill(Context(cache))!;

        // Head 0: the two best of partition 0 are t4 (0.647) and t1 (0.512); sink 0 and tail 5–9 stay.
        CollectionAssert.AreEqual(new[] { 0, 1, 4, 5, 6, 7, 8, 9 }, plan.KeepPerHead[0]);
        // Head 1 (t2, t4, t1, t3 at indices 1–4) scores (0.420, 0.647, 0.512, 0.420): indices 2 and 3.
        CollectionAssert.AreEqual(new[] { 0, 2, 3, 5, 6, 7, 8, 9 }, plan.KeepPerHead[1]);
        // Eq. 12: S + rL(⌊(Ls−S)/L⌋−1) + L + mod(Ls−S, L) = 1 + 2·1 + 4 + 1 = 8.
        Assert.AreEqual(8, press.KeptAfterPrefill(10));
        Assert.AreEqual(1 + 2, press.CompressedLength(0), "base_len = S + (P − 1)·k");

        cache.Apply(plan);
        CollectionAssert.AreEqual(new[] { 0, 2, 3, 5, 6, 7, 8, 9 }, cache.Head(0, 1).Positions.ToArray());
        var value = new float[2];
        cache.Head(0, 1).Values.Read(1, value);
        CollectionAssert.AreEqual(Values0[4], value, "values travel with their keys (head 1 index 2 holds t4)");

        // The uncompressed region is now the 5-token tail < 2L: nothing more to do.
        Assert.IsNull(press.CompressDecode(Context(cache, CompressionPhase.Decode)));
    }

    [TestMethod]
    public void ScoreVRatioWeighsTheValuesAndTiesKeepTheLowerPosition()
    {
        var press = new LagKvPress { Budget = new CompressionBudget { Compression = 0.5 }, Sink = 1, Lag = 4, ScoreVRatio = 0 };
        var plan = (KeepPlan)press.CompressPrefill(Context(HandCache()))!;
        // s_K only. Head 0: t4 (0.449), then t2 and t3 tie at 0.221: the lower position (index 2) wins.
        CollectionAssert.AreEqual(new[] { 0, 2, 4, 5, 6, 7, 8, 9 }, plan.KeepPerHead[0]);
        // Head 1 s_K = (0.221, 0.449, 0.109, 0.221): index 2, then the tie of indices 1 and 4 goes to 1.
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 5, 6, 7, 8, 9 }, plan.KeepPerHead[1]);
    }

    [TestMethod]
    public void NothingHappensBelowSinkPlusTwoLagsOrAtCompressionZeroOrInSkippedLayers()
    {
        var shortCache = HandCache(tokens: 8);
        var press = new LagKvPress { Budget = new CompressionBudget { Compression = 0.5 }, Sink = 1, Lag = 4 };
        Assert.IsNull(press.CompressPrefill(Context(shortCache)), "8 < S + 2L = 9");

        var zero = new LagKvPress { Budget = new CompressionBudget { Compression = 0 }, Sink = 1, Lag = 4 };
        Assert.IsNull(zero.CompressPrefill(Context(HandCache())));
        Assert.AreEqual(1 + 4, zero.CompressedLength(0), "the region still counts as compressed (k = L)");

        var skipping = new LagKvPress { Budget = new CompressionBudget { Compression = 0.5 }, Sink = 1, Lag = 4, SkipLayers = 1 };
        Assert.IsNull(skipping.CompressPrefill(Context(HandCache())));
    }

    [TestMethod]
    public void KvpressVariantRanksWithinPartitionsAndTakesOneGlobalTopK()
    {
        // kvpress scores: sink and tail (indices 0, 5–9) 1; partition 0 gets (s_K + s_V)/2 replaced by rank/L.
        // Head 0 scores (0.256, 0.210, 0.210, 0.324) rank t3 < t2 (tie: the higher position ranks lower) < t1 < t4:
        // indices 1–4 → (2/4, 1/4, 0, 3/4). Keep int(10·0.8) = 8: the six 1s, then 0.75 (index 4), 0.5 (index 1).
        var press = new LagKvPress { Budget = new CompressionBudget { Compression = 0.2 }, Sink = 1, Lag = 4, Variant = LagKvVariant.Kvpress };
        var plan = (KeepPlan)press.CompressPrefill(Context(HandCache()))!;
        CollectionAssert.AreEqual(new[] { 0, 1, 4, 5, 6, 7, 8, 9 }, plan.KeepPerHead[0]);
        // Head 1 (0.210, 0.324, 0.256, 0.210): ranks (1/4, 3/4, 2/4, 0) → indices 2 and 3.
        CollectionAssert.AreEqual(new[] { 0, 2, 3, 5, 6, 7, 8, 9 }, plan.KeepPerHead[1]);
        Assert.IsNull(press.CompressDecode(Context(HandCache(), CompressionPhase.Decode)), "kvpress's LagKV is prefill only");

        // Keep 5 of 10: six tokens tie at 1, so the global top-k drops even the last tail token (unlike the reference).
        var half = new LagKvPress { Budget = new CompressionBudget { Compression = 0.5 }, Sink = 1, Lag = 4, Variant = LagKvVariant.Kvpress };
        var halfPlan = (KeepPlan)half.CompressPrefill(Context(HandCache()))!;
        CollectionAssert.AreEqual(new[] { 0, 5, 6, 7, 8 }, halfPlan.KeepPerHead[0]);

        // Below S + 2L kvpress does not skip: sink 1, the rest (i − S)/(n − S), i.e. sink + most recent.
        var shortPlan = (KeepPlan)half.CompressPrefill(Context(HandCache(tokens: 8)))!;
        CollectionAssert.AreEqual(new[] { 0, 5, 6, 7 }, shortPlan.KeepPerHead[1]);
    }

    [TestMethod]
    public void RegistryParsesParametersAndRejectsBadOnes()
    {
        var descriptor = PressRegistry.Get("lagkv");
        var press = (LagKvPress)descriptor.Create(new CompressionBudget { Compression = 0.75 },
            new Dictionary<string, string> { ["lag"] = "32", ["sink"] = "4", ["score_v_ratio"] = "0.5", ["skip_layers"] = "1" });
        Assert.AreEqual((32, 4, 0.5, 1, LagKvVariant.Reference), (press.Lag, press.Sink, press.ScoreVRatio, press.SkipLayers, press.Variant));
        Assert.AreEqual(8, press.PartitionKeep);

        var defaults = (LagKvPress)descriptor.Create(new CompressionBudget { Compression = 0.5 });
        Assert.AreEqual((128, 16, 1.0, 0), (defaults.Lag, defaults.Sink, defaults.ScoreVRatio, defaults.SkipLayers));

        var kvpress = (LagKvPress)descriptor.Create(new CompressionBudget { TokenBudget = 64 },
            new Dictionary<string, string> { ["variant"] = "kvpress", ["cross_scoring"] = "true" });
        Assert.AreEqual((LagKvVariant.Kvpress, true), (kvpress.Variant, kvpress.CrossScoring));

        Assert.ThrowsExactly<ArgumentException>(() => descriptor.Create(new CompressionBudget { TokenBudget = 64 }));
        Assert.ThrowsExactly<ArgumentException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["variant"] = "fast" }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["lag"] = "0" }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["sink"] = "-1" }));
    }

    /// <summary>Rows [start, start + count) of a [tokens][width] table, flattened.</summary>
    private static float[] Rows(float[][] table, int start, int count) => table.Skip(start).Take(count).SelectMany(r => r).ToArray();

    /// <summary>One layer, two KV heads: head 0 holds the tables, head 1 the same with partition 0 reordered.</summary>
    private static KvCache HandCache(int tokens = 10)
    {
        var cache = new KvCache(layers: 1, kvHeads: 2, keyDim: 2, valueDim: 2);
        for (int t = 0; t < tokens; t++)
        {
            cache.Append(0, 0, t, Keys0[t], Values0[t]);
            cache.Append(0, 1, t, Keys0[Head1Order[t]], Values0[Head1Order[t]]);
        }
        return cache;
    }

    private static PressContext Context(KvCache cache, CompressionPhase phase = CompressionPhase.Prefill) => new(0, cache, Config.Value, phase);

    private static readonly Lazy<ModelConfig> Config = new(() =>
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        return source.Config;
    });

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], tolerance, $"score {i}");
    }
}
