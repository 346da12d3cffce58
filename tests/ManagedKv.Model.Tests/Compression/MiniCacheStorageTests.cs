using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// MiniCache's merged storage on a hand-made layer pair whose rows lie at known angles: which rows are retained,
/// what each row restores to, the byte formula, allocation, decoding after the merge, eviction and accounting.
/// </summary>
[TestClass]
public sealed class MiniCacheStorageTests
{
    // Angles (degrees) of the upper layer's rows from the lower layer's, which all point along the first axis.
    private static readonly double[][] KeyAngles = [[10, 80, 30, 0, 50], [20, 60, 90, 5, 40]];
    private static readonly double[][] ValueAngles = [[100, 5, 5, 120, 0], [0, 0, 170, 0, 10]];
    private const int Tokens = 5, KeyDim = 4, ValueDim = 2;

    [TestMethod]
    public void RetainsTheRowsWithTheLargestAngleOverThePairKeysAndValuesSeparately()
    {
        var (cache, plan) = MergedPair();
        // γ = 0.3 of N = 2 heads × 5 rows → 3 rows. Keys: 90° (h1 t2), 80° (h0 t1), 60° (h1 t1).
        CollectionAssert.AreEqual(new[] { 1 }, plan.RetainedKeys[0]);
        CollectionAssert.AreEqual(new[] { 1, 2 }, plan.RetainedKeys[1]);
        // Values: 170° (h1 t2), 120° (h0 t3), 100° (h0 t0).
        CollectionAssert.AreEqual(new[] { 0, 3 }, plan.RetainedValues[0]);
        CollectionAssert.AreEqual(new[] { 2 }, plan.RetainedValues[1]);
        Assert.AreEqual((1, 0), (plan.Layer, plan.LowerLayer));
        Assert.AreEqual(0.6, plan.T);
        Assert.AreEqual(
            "merge layers 0+1 t=0.6: keys retain 3, values retain 3\n" +
            "  head 0 keys retain 1: 1\n  head 0 values retain 2: 0 3\n" +
            "  head 1 keys retain 2: 1 2\n  head 1 values retain 1: 2", plan.ToString());
        Assert.IsInstanceOfType<MergedKvRows>(cache.Head(0, 0).Keys);
        Assert.IsInstanceOfType<F32KvRows>(cache.Head(2, 0).Keys, "layer 2 is not in a pair");
    }

    [TestMethod]
    public void TiesGoToTheLowerHeadThenTheLowerIndex()
    {
        var retained = MiniCachePress.SelectRetained([[1, 2, 2], [2, 0]], 0.4);
        CollectionAssert.AreEqual(new[] { 1, 2 }, retained[0]);
        CollectionAssert.AreEqual(Array.Empty<int>(), retained[1]);
        // ⌊γ·N⌋ rows: 0.05 · 800 = 40 although the product is a rounding error off.
        Assert.AreEqual(40, MiniCachePress.SelectRetained([new double[800]], 0.05)[0].Length);
        Assert.AreEqual(0, MiniCachePress.SelectRetained([new double[19]], 0.05)[0].Length);
    }

    [TestMethod]
    public void RetainedRowsRestoreExactlyAndMergedRowsRestoreDirectionTimesMagnitude()
    {
        var (cache, plan) = MergedPair();
        var row = new float[KeyDim];
        for (int layer = 0; layer < 2; layer++)
            for (int h = 0; h < 2; h++)
                for (int t = 0; t < Tokens; t++)
                {
                    cache.Head(layer, h).Keys.Read(t, row);
                    float magnitude = Magnitude(layer, h, t);
                    if (plan.RetainedKeys[h].Contains(t))
                        CollectionAssert.AreEqual(KeyRow(layer, h, t), row, $"layer {layer} head {h} token {t}: retained rows are the originals");
                    else
                    {
                        // e = SLERP((1,0), (cos θ, sin θ); 0.6) = (cos 0.6θ, sin 0.6θ); x̂ = e·‖x‖ in both layers.
                        double angle = 0.6 * KeyAngles[h][t] * Math.PI / 180;
                        float[] expected = [(float)Math.Cos(angle) * magnitude, (float)Math.Sin(angle) * magnitude, 0, 0];
                        for (int d = 0; d < KeyDim; d++) Assert.AreEqual(expected[d], row[d], 1e-5f, $"layer {layer} head {h} token {t} dim {d}");
                    }
                }
        var value = new float[ValueDim];
        cache.Head(1, 0).Values.Read(3, value);
        CollectionAssert.AreEqual(ValueRow(1, 0, 3), value, "retained value (120°)");
        cache.Head(0, 1).Values.Read(4, value);
        double v = 0.6 * 10 * Math.PI / 180;
        Assert.AreEqual((float)Math.Cos(v) * (Magnitude(0, 1, 4) + 0.25f), value[0], 1e-5f);
        Assert.AreEqual((float)Math.Sin(v) * (Magnitude(0, 1, 4) + 0.25f), value[1], 1e-5f);
    }

    [TestMethod]
    public void ByteCountCountsSharedDirectionsOnceMagnitudesAndRetainedRowsPerLayer()
    {
        var (cache, _) = MergedPair();
        // Keys (width 4): 7 merged, 3 retained. Directions 7·16 + retained indices 3·4, once for the pair;
        // magnitudes 7·4 and retained rows 3·16 per layer.
        long keys = 7 * 16 + 3 * 4 + 2 * (7 * 4 + 3 * 16);
        // Values (width 2): 7 merged, 3 retained.
        long values = 7 * 8 + 3 * 4 + 2 * (7 * 4 + 3 * 8);
        long positions = 3 * 2 * Tokens * 4L;        // every layer and head, once per head
        long layer2 = 2 * Tokens * (KeyDim + ValueDim) * 4L;
        Assert.AreEqual(keys + values + positions + layer2, cache.ByteCount);
        Assert.AreEqual(808, cache.ByteCount);
        Assert.AreEqual(840, cache.FullCacheBytes);

        var lower = (MergedKvRows)cache.Head(0, 1).Keys;
        var upper = (MergedKvRows)cache.Head(1, 1).Keys;
        Assert.IsTrue(lower.CountsSharedBytes && !upper.CountsSharedBytes, "the lower layer counts the shared store");
        Assert.AreEqual(3 * 16 + 2 * 4, lower.SharedByteCount, "head 1 keys: 3 directions and 2 retained indices");
        Assert.AreEqual(lower.SharedByteCount + 3 * 4 + 2 * 16, lower.ByteCount);
        Assert.AreEqual(3 * 4 + 2 * 16, upper.ByteCount);
    }

    [TestMethod]
    public void AllocationReallyShrinks()
    {
        const int width = 32, tokens = 100;
        var cache = new KvCache(layers: 2, kvHeads: 2, keyDim: width, valueDim: width);
        var random = new Random(7);
        var row = new float[width];
        for (int t = 0; t < tokens; t++)
            for (int l = 0; l < 2; l++)
                for (int h = 0; h < 2; h++)
                {
                    for (int d = 0; d < width; d++) row[d] = (float)(random.NextDouble() * 2 - 1);
                    cache.Append(l, h, t, row, row);
                }
        long allocatedBefore = cache.AllocatedBytes, bytesBefore = cache.ByteCount;
        var plan = new MiniCachePress { StartLayer = 0 }.CompressPrefill(Context(cache, 1))!;
        cache.Apply(plan);

        // A merged row of the pair costs one direction (128 B) + two magnitudes instead of two rows (256 B); a retained
        // row (⌊0.05 · 200⌋ = 10 of the 200 key rows of both heads, and 10 value rows) stays whole in both layers + one index.
        long retainedRows = ((MergePlan)plan).RetainedKeyCount + ((MergePlan)plan).RetainedValueCount;
        long merged = 2 * 2 * tokens - retainedRows;
        long expected = merged * (width * 4 + 2 * 4) + retainedRows * (2 * width * 4 + 4) + 2 * 2 * tokens * 4L;
        Assert.AreEqual(20, retainedRows);
        Assert.AreEqual(expected, cache.ByteCount);
        Assert.IsTrue(cache.ByteCount < bytesBefore * 0.6, $"{cache.ByteCount} vs {bytesBefore}");
        Assert.IsTrue(cache.AllocatedBytes < allocatedBefore * 0.6, $"allocated {cache.AllocatedBytes} vs {allocatedBefore}");
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 2; h++)
                Assert.AreEqual(cache.Head(l, h).Keys.ByteCount, cache.Head(l, h).Keys.AllocatedBytes, "merged storage is built to size");
    }

    [TestMethod]
    public void DecodedTokensAppendWholeAndAttentionReadsAgreeWithRead()
    {
        var (cache, _) = MergedPair();
        long before = cache.ByteCount;
        float[] newKey = [0.5f, -1.5f, 2, 3], newValue = [7, -8];
        for (int l = 0; l < 3; l++)
            for (int h = 0; h < 2; h++)
                cache.Append(l, h, Tokens, newKey, newValue);
        Assert.AreEqual(before + 3 * 2 * (KeyDim * 4 + ValueDim * 4 + 4), cache.ByteCount);

        var keys = (MergedKvRows)cache.Head(1, 1).Keys;
        Assert.AreEqual((6, 1), (keys.Count, keys.AppendedCount));
        var row = new float[KeyDim];
        keys.Read(5, row);
        CollectionAssert.AreEqual(newKey, row);

        float[] query = [0.3f, -0.7f, 1.1f, 0.2f];
        foreach (var (start, length) in new[] { (0, 6), (1, 3), (2, 4), (5, 1) })
        {
            var dots = new float[length];
            keys.DotRows(query, start, dots);
            var accumulated = new float[KeyDim];
            float[] weights = Enumerable.Range(0, length).Select(i => 0.25f + i).ToArray();
            keys.AccumulateRows(weights, start, accumulated);
            var expectedSum = new float[KeyDim];
            for (int i = 0; i < length; i++)
            {
                keys.Read(start + i, row);
                float dot = 0;
                for (int d = 0; d < KeyDim; d++)
                {
                    dot += query[d] * row[d];
                    expectedSum[d] += weights[i] * row[d];
                }
                Assert.AreEqual(dot, dots[i], 1e-5f, $"dot of row {start + i}");
            }
            for (int d = 0; d < KeyDim; d++) Assert.AreEqual(expectedSum[d], accumulated[d], 1e-4f, $"rows [{start}, {start + length}) dim {d}");
        }
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => keys.DotRows(query, 4, new float[3]));
    }

    [TestMethod]
    public void EvictionFromMergedStorageKeepsTheRightRowsAndCountsItsOwnMaps()
    {
        var (cache, _) = MergedPair();
        for (int l = 0; l < 3; l++)
            for (int h = 0; h < 2; h++)
                cache.Append(l, h, Tokens, [0.5f, -1.5f, 2, 3], [7, -8]);
        int[][] keep = [[0, 2, 3, 5], [1, 2, 4, 5]];
        var before = new float[2][][];
        for (int h = 0; h < 2; h++)
            before[h] = Enumerable.Range(0, 6).Select(t => { var r = new float[KeyDim]; cache.Head(1, h).Keys.Read(t, r); return r; }).ToArray();
        long lowerBytes = cache.Head(0, 1).Keys.ByteCount;

        cache.Apply(new KeepPlan(1, keep));

        var row = new float[KeyDim];
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < keep[h].Length; j++)
            {
                cache.Head(1, h).Keys.Read(j, row);
                CollectionAssert.AreEqual(before[h][keep[h][j]], row, $"head {h} kept row {j}");
            }
        // Head 0 (retained {1}) keeps merged rows 0, 2, 3 (directions 0, 1, 2: still the identity) and appended 5.
        Assert.AreEqual(3 * 4 + 1 * 16, cache.Head(1, 0).Keys.ByteCount);
        // Head 1 (retained {1, 2}) keeps retained 1, 2, merged 4 (direction 2: an own map) and appended 5:
        // magnitude 4 + direction map 4 + own retained index list 2·4 + retained rows 2·16 + appended 16.
        Assert.AreEqual(4 + 4 + 8 + 32 + 16, cache.Head(1, 1).Keys.ByteCount);
        Assert.AreEqual(lowerBytes, cache.Head(0, 1).Keys.ByteCount, "the lower layer still holds (and counts) the shared directions");
    }

    [TestMethod]
    public void WhenTheLowerLayerDropsItsStorageTheUpperLayerCountsTheSharedBytes()
    {
        var (cache, _) = MergedPair();
        var upper = (MergedKvRows)cache.Head(1, 0).Keys;
        long upperOwn = upper.ByteCount;
        var head = cache.Head(0, 0);
        var keys = new F32KvRows(KeyDim);
        var values = new F32KvRows(ValueDim);
        var row = new float[KeyDim];
        for (int t = 0; t < Tokens; t++)
        {
            head.Keys.Read(t, row);
            keys.Append(row);
            head.Values.Read(t, row);
            values.Append(row.AsSpan(0, ValueDim));
        }
        head.ReplaceStorage(keys, values);
        Assert.IsTrue(upper.CountsSharedBytes);
        Assert.AreEqual(upperOwn + upper.SharedByteCount, upper.ByteCount);

        cache.Clear();
        Assert.AreEqual(0, cache.ByteCount);
        Assert.IsInstanceOfType<F32KvRows>(cache.Head(1, 0).Keys, "a cleared head starts dense again");
    }

    [TestMethod]
    public void HalfPrecisionCachesStoreDirectionsAndRowsInHalves()
    {
        var (cache, plan) = MergedPair(KvStorageType.F16);
        Assert.AreEqual(3, plan.RetainedKeyCount);
        // As the f32 formula with 2-byte elements; magnitudes and indices stay 4 bytes.
        long keys = 7 * 8 + 3 * 4 + 2 * (7 * 4 + 3 * 8);
        long values = 7 * 4 + 3 * 4 + 2 * (7 * 4 + 3 * 4);
        long positions = 3 * 2 * Tokens * 4L;
        long layer2 = 2 * Tokens * (KeyDim + ValueDim) * 2L;
        Assert.AreEqual(keys + values + positions + layer2, cache.ByteCount);
        Assert.AreEqual(KvStorageType.F16, cache.Head(0, 0).Keys.StorageType);
        var row = new float[KeyDim];
        cache.Head(1, 0).Keys.Read(0, row);
        double angle = 0.6 * KeyAngles[0][0] * Math.PI / 180;
        Assert.AreEqual((float)Math.Cos(angle) * Magnitude(1, 0, 0), row[0], 2e-3f);
        Assert.AreEqual((float)Math.Sin(angle) * Magnitude(1, 0, 0), row[1], 2e-3f);
    }

    [TestMethod]
    public void BadMergePlansLeaveTheCacheAsItWas()
    {
        var cache = HandMadeCache();
        long bytes = cache.ByteCount;
        int[][] none = [[], []];
        Assert.ThrowsExactly<ArgumentException>(() => cache.Apply(new MergePlan(1, 0, 0.6, [[0], [4, 2]], none)), "indices out of order");
        Assert.ThrowsExactly<ArgumentException>(() => cache.Apply(new MergePlan(1, 0, 0.6, [[0], [5]], none)), "index out of range");
        Assert.ThrowsExactly<ArgumentException>(() => cache.Apply(new MergePlan(1, 1, 0.6, none, none)), "a layer with itself");
        Assert.ThrowsExactly<ArgumentException>(() => cache.Apply(new MergePlan(1, 0, 1.5, none, none)), "t outside [0, 1]");
        Assert.ThrowsExactly<ArgumentException>(() => cache.Apply(new MergePlan(1, 0, 0.6, [[]], none)), "head count");
        cache.Apply(new KeepPlan(1, [[0, 1, 2, 3], [0, 1, 2, 3, 4]]));
        Assert.ThrowsExactly<ArgumentException>(() => cache.Apply(new MergePlan(1, 0, 0.6, none, none)), "head 0 differs between the layers");
        Assert.IsNull(new MiniCachePress { StartLayer = 0 }.CompressPrefill(Context(cache, 1)), "the press leaves misaligned pairs alone");
        for (int l = 0; l < 3; l++)
            for (int h = 0; h < 2; h++)
                Assert.IsInstanceOfType<F32KvRows>(cache.Head(l, h).Keys);
        Assert.AreEqual(bytes - (KeyDim + ValueDim) * 4 - 4, cache.ByteCount);
    }

    /// <summary>The hand-made cache merged by the press (pair (0, 1), γ = 0.3).</summary>
    private static (KvCache Cache, MergePlan Plan) MergedPair(KvStorageType storage = KvStorageType.F32)
    {
        var cache = HandMadeCache(storage);
        var press = new MiniCachePress { StartLayer = 0, Gamma = 0.3 };
        Assert.IsNull(press.CompressPrefill(Context(cache, 0)), "layer 0 is the lower layer: nothing to do yet");
        var plan = (MergePlan)press.CompressPrefill(Context(cache, 1))!;
        Assert.IsNull(press.CompressPrefill(Context(cache, 2)), "layer 2 has no partner");
        cache.Apply(plan);
        Assert.IsNull(press.CompressPrefill(Context(cache, 1)), "an already merged pair is left alone");
        return (cache, plan);
    }

    /// <summary>3 layers × 2 KV heads × 5 tokens; layer 0's rows lie along the first axis, layer 1's at the given angles.</summary>
    private static KvCache HandMadeCache(KvStorageType storage = KvStorageType.F32)
    {
        var cache = new KvCache(layers: 3, kvHeads: 2, keyDim: KeyDim, valueDim: ValueDim, storage);
        for (int l = 0; l < 3; l++)
            for (int h = 0; h < 2; h++)
                for (int t = 0; t < Tokens; t++)
                    cache.Append(l, h, t, KeyRow(l, h, t), ValueRow(l, h, t));
        return cache;
    }

    private static float Magnitude(int layer, int head, int token) => 1 + layer * 2 + head + token * 0.5f;

    private static float[] KeyRow(int layer, int head, int token) =>
        Polar(layer == 0 ? 0 : KeyAngles[head][token], Magnitude(layer, head, token), KeyDim);

    private static float[] ValueRow(int layer, int head, int token) =>
        Polar(layer == 0 ? 0 : ValueAngles[head][token], Magnitude(layer, head, token) + 0.25f, ValueDim);

    private static float[] Polar(double degrees, float magnitude, int width)
    {
        var row = new float[width];
        row[0] = (float)Math.Cos(degrees * Math.PI / 180) * magnitude;
        row[1] = (float)Math.Sin(degrees * Math.PI / 180) * magnitude;
        return row;
    }

    private static PressContext Context(KvCache cache, int layer) => new(layer, cache, Config, CompressionPhase.Prefill);

    private static ModelConfig Config { get; } = LoadConfig();

    private static ModelConfig LoadConfig()
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        return source.Config;
    }
}
