using ManagedKv.Model.Cache;
using ManagedKv.Model.Cache.Kivi;
using ManagedKv.Model.Compression;

namespace ManagedKv.Model.Tests.Cache;

/// <summary>
/// KIVI storage on hand-made rows whose codes, bytes and errors are worked out here: exact packing, the error
/// bound, attention on the packed codes, the byte formula, the residual rule, eviction and memory release.
/// </summary>
[TestClass]
public sealed class KiviRowsTests
{
    [TestMethod]
    public void TwoBitKeyGroupPacksTheCodesWorkedOutByHand()
    {
        // One group of 4 tokens (group = residual = 4): the 4th append fills the tail and quantises it.
        var keys = new KiviKeyRows(4, new KiviFormat(Bits: 2, Group: 4, Residual: 4));
        float[][] rows =
        [
            [0, 3, -1, 5],
            [1, 2, -1, 5],
            [2, 1, 2, 5],
            [3, 0, 0.5f, 5],
        ];
        foreach (var row in rows) keys.Append(row);

        // Per channel: ch0 [0,3] → min 0, scale (3−0)/3 = 1, codes 0 1 2 3; ch1 codes 3 2 1 0; ch2 [−1,2] → min −1,
        // scale 1, codes 0 0 3 and (0.5+1)/1 = 1.5 → 2 (nearest even); ch3 constant 5 → scale 0, codes 0.
        CollectionAssert.AreEqual(new[] { (Half)0, (Half)0, (Half)(-1), (Half)5 }, keys.Mins.ToArray());
        CollectionAssert.AreEqual(new[] { (Half)1, (Half)1, (Half)1, (Half)0 }, keys.Scales.ToArray());
        // Token t's 4 codes in one byte, channel c at bits 2c: t0 (0,3,0,0) = 0b00_00_11_00 = 0x0C; t1 (1,2,0,0) = 0x09;
        // t2 (2,1,3,0) = 2 + 1·4 + 3·16 = 0x36; t3 (3,0,2,0) = 3 + 2·16 = 0x23.
        CollectionAssert.AreEqual(new byte[] { 0x0C, 0x09, 0x36, 0x23 }, keys.Codes.ToArray());
        Assert.AreEqual(4, keys.QuantizedCount);
        Assert.AreEqual(0, keys.TailCount);
        Assert.AreEqual(1, keys.GroupCount);

        var read = new float[4];
        keys.Read(3, read);
        CollectionAssert.AreEqual(new float[] { 3, 0, 1, 5 }, read, "x̂ = min + scale·code; 0.5 became 1 (error 0.5 = scale/2)");
        // Bytes: 4 code bytes + one group's 4 channels × (f16 min + f16 scale) + its 4-byte start; no tail.
        Assert.AreEqual(4 + 4 * 4 + 4, keys.ByteCount);
    }

    [TestMethod]
    public void FourBitKeyGroupPacksTwoCodesPerByte()
    {
        var keys = new KiviKeyRows(2, new KiviFormat(Bits: 4, Group: 2, Residual: 2));
        keys.Append([0, 10]);
        keys.Append([15, -5]);
        // ch0 [0,15] → min 0, scale 15/15 = 1, codes 0 15; ch1 [−5,10] → min −5, scale 1, codes 15 0.
        // t0: 0 | 15<<4 = 0xF0; t1: 15 | 0<<4 = 0x0F.
        CollectionAssert.AreEqual(new byte[] { 0xF0, 0x0F }, keys.Codes.ToArray());
        CollectionAssert.AreEqual(new[] { (Half)0, (Half)(-5) }, keys.Mins.ToArray());
        CollectionAssert.AreEqual(new[] { (Half)1, (Half)1 }, keys.Scales.ToArray());
        var read = new float[2];
        keys.Read(1, read);
        CollectionAssert.AreEqual(new float[] { 15, -5 }, read);
    }

    [TestMethod]
    public void ValueTokenPacksEachChannelGroupWithItsOwnRange()
    {
        // Residual 4, group 4: the 5th append pushes the oldest value out of the tail into 2 channel groups.
        var values = new KiviValueRows(8, new KiviFormat(Bits: 2, Group: 4, Residual: 4));
        values.Append([0, 1, 2, 3, 10, 11, 13, 16]);
        for (int t = 1; t < 4; t++) values.Append([t, t, t, t, t, t, t, t]);
        Assert.AreEqual(0, values.QuantizedCount, "the last R = 4 tokens stay in full precision");
        values.Append([9, 9, 9, 9, 9, 9, 9, 9]);
        Assert.AreEqual(1, values.QuantizedCount);
        Assert.AreEqual(4, values.TailCount);

        // Group 0 [0..3]: min 0, scale 1, codes 0 1 2 3 → 0 + 1·4 + 2·16 + 3·64 = 0xE4.
        // Group 1 [10,11,13,16]: min 10, scale 6/3 = 2, codes 0, 0.5→0, 1.5→2, 3 → 2·16 + 3·64 = 0xE0.
        CollectionAssert.AreEqual(new byte[] { 0xE4, 0xE0 }, values.Codes.ToArray());
        CollectionAssert.AreEqual(new[] { (Half)0, (Half)10 }, values.Mins.ToArray());
        CollectionAssert.AreEqual(new[] { (Half)1, (Half)2 }, values.Scales.ToArray());
        var read = new float[8];
        values.Read(0, read);
        CollectionAssert.AreEqual(new float[] { 0, 1, 2, 3, 10, 10, 14, 16 }, read, "errors 0, 1, 1, 0 ≤ scale/2 = 1");
        // Bytes: 2 code bytes + 2 groups × 4 bytes, plus 4 tail rows × 8 f32.
        Assert.AreEqual(2 + 2 * 4 + 4 * 8 * 4, values.ByteCount);
    }

    [TestMethod]
    public void RangeIsRoundedOutwardToF16()
    {
        // 0.1 and 0.7 are not f16 values: the min rounds down and the scale up, so [min, min + 3·scale] still covers them.
        var (min, scale) = AsymmetricQuantizer.Fit(0.1f, 0.7f, 3);
        Assert.IsTrue((float)min <= 0.1f && (float)min > 0.0999f, $"min {min}");
        Assert.IsTrue((float)min + 3 * (float)scale >= 0.7f, $"scale {scale}");
        Assert.IsTrue((float)scale < 0.2001f, $"scale {scale} is the smallest f16 that covers the range");
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(4)]
    public void EveryElementIsWithinHalfItsGroupScale(int bits)
    {
        const int width = 16;
        var format = new KiviFormat(bits, Group: 8, Residual: 16);
        var data = RandomRows(77, width, seed: bits);
        var keys = new KiviKeyRows(width, format);
        var values = new KiviValueRows(width, format);
        foreach (var row in data)
        {
            keys.Append(row);
            values.Append(row);
        }
        Assert.AreEqual(64, keys.QuantizedCount, "⌊77/16⌋·16 keys quantised");
        Assert.AreEqual(61, values.QuantizedCount, "all but the last 16 values quantised");

        var read = new float[width];
        for (int i = 0; i < data.Length; i++)
        {
            keys.Read(i, read);
            for (int c = 0; c < width; c++)
            {
                float bound = i < keys.QuantizedCount ? (float)keys.Scales[(i / 8) * width + c] / 2 : 0;
                Assert.IsTrue(MathF.Abs(data[i][c] - read[c]) <= bound + 1e-5f, $"key {i},{c}: {data[i][c]} vs {read[c]}, bound {bound}");
            }
            values.Read(i, read);
            for (int c = 0; c < width; c++)
            {
                float bound = i < values.QuantizedCount ? (float)values.Scales[i * 2 + c / 8] / 2 : 0;
                Assert.IsTrue(MathF.Abs(data[i][c] - read[c]) <= bound + 1e-5f, $"value {i},{c}: {data[i][c]} vs {read[c]}, bound {bound}");
            }
        }

        // Each scale is as small as f16 allows: the group's range / maxCode, rounded up to the next f16 at most.
        int maxCode = (1 << bits) - 1;
        for (int g = 0; g < keys.GroupCount; g++)
            for (int c = 0; c < width; c++)
            {
                var group = data.Skip(g * 8).Take(8).Select(r => r[c]).ToArray();
                float exact = (group.Max() - (float)keys.Mins[g * width + c]) / maxCode;
                float scale = (float)keys.Scales[g * width + c];
                Assert.IsTrue(scale >= exact && scale <= exact * 1.002f, $"group {g} channel {c}: scale {scale} for range step {exact}");
                Assert.IsTrue((float)keys.Mins[g * width + c] <= group.Min());
            }
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(4)]
    public void DotAndAccumulateOnCodesEqualDequantiseThenMultiply(int bits)
    {
        const int width = 12; // 12 channels, group 8: value rows have a full and a partial channel group
        var format = new KiviFormat(bits, Group: 8, Residual: 16);
        var data = RandomRows(90, width, seed: 10 + bits);
        var rng = new Random(99);
        var query = Enumerable.Range(0, width).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        KiviRows[] storages = [new KiviKeyRows(width, format), new KiviValueRows(width, format)];
        foreach (var rows in storages)
        {
            foreach (var row in data) rows.Append(row);
            // Ranges inside the codes, across the code/tail boundary, inside the tail, and everything.
            foreach (var (start, length) in new[] { (0, 90), (3, 20), (60, 20), (80, 10), (17, 1) })
            {
                var weights = Enumerable.Range(0, length).Select(_ => (float)rng.NextDouble()).ToArray();
                var dots = new float[length];
                rows.DotRows(query, start, dots);
                var accumulated = new float[width];
                rows.AccumulateRows(weights, start, accumulated);

                var expectedAccumulated = new double[width];
                var read = new float[width];
                for (int i = 0; i < length; i++)
                {
                    rows.Read(start + i, read);
                    double dot = 0;
                    for (int c = 0; c < width; c++)
                    {
                        dot += (double)query[c] * read[c];
                        expectedAccumulated[c] += (double)weights[i] * read[c];
                    }
                    Assert.AreEqual(dot, dots[i], 1e-4, $"{rows.GetType().Name} dot of row {start + i}");
                }
                for (int c = 0; c < width; c++)
                    Assert.AreEqual(expectedAccumulated[c], accumulated[c], 1e-4, $"{rows.GetType().Name} rows [{start}, {start + length}) channel {c}");
            }
        }
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(4)]
    public void ReadRowsDecodesEveryRowAsMinPlusScaleTimesCode(int bits)
    {
        const int width = 20; // two whole 8-channel vector steps and 4 scalar channels; value groups 16 + 4
        var format = new KiviFormat(bits, Group: 16, Residual: 16);
        var data = RandomRows(70, width, seed: 30 + bits);
        var keys = new KiviKeyRows(width, format);
        var values = new KiviValueRows(width, format);
        foreach (var row in data)
        {
            keys.Append(row);
            values.Append(row);
        }
        // The hand formula on the public codes and parameters: min + scale·code, product then sum.
        int rowBytes = format.RowBytes(width);
        int Code(KiviRows rows, int t, int c) => (rows.Codes[t * rowBytes + c * bits / 8] >> (c * bits % 8)) & format.MaxCode;
        for (int t = 0; t < keys.QuantizedCount; t++)
        {
            int g = keys.GroupStarts.ToArray().Count(s => s <= t) - 1;
            var expected = new float[width];
            for (int c = 0; c < width; c++) expected[c] = (float)keys.Mins[g * width + c] + (float)keys.Scales[g * width + c] * Code(keys, t, c);
            var read = new float[width];
            keys.Read(t, read);
            CollectionAssert.AreEqual(expected, read, $"key row {t}");
        }
        for (int t = 0; t < values.QuantizedCount; t++)
        {
            var expected = new float[width];
            for (int c = 0; c < width; c++)
            {
                int p = t * values.ChannelGroups + c / 16;
                expected[c] = (float)values.Mins[p] + (float)values.Scales[p] * Code(values, t, c);
            }
            var read = new float[width];
            values.Read(t, read);
            CollectionAssert.AreEqual(expected, read, $"value row {t}");
        }
        // Blocks inside the codes, across group and code/tail boundaries, and in the tail equal Read row by row.
        foreach (KiviRows rows in new KiviRows[] { keys, values })
            foreach (var (start, length) in new[] { (0, 70), (5, 30), (40, 25), (60, 10) })
            {
                var block = new float[length * width];
                rows.ReadRows(start, length, block);
                var read = new float[width];
                for (int i = 0; i < length; i++)
                {
                    rows.Read(start + i, read);
                    CollectionAssert.AreEqual(read, block.AsSpan(i * width, width).ToArray(), $"{rows.GetType().Name} row {start + i}");
                }
            }
    }

    [TestMethod]
    public void AttentionOnCodesAllocatesNothing()
    {
        var format = new KiviFormat(2, Group: 32, Residual: 64);
        KiviRows[] storages = [new KiviKeyRows(64, format), new KiviValueRows(64, format)];
        var query = new float[64];
        var results = new float[300];
        var accumulator = new float[64];
        foreach (var rows in storages)
        {
            foreach (var row in RandomRows(300, 64, seed: 4)) rows.Append(row);
            rows.DotRows(query, 0, results);
            rows.AccumulateRows(results, 0, accumulator);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
            {
                rows.DotRows(query, 0, results);
                rows.AccumulateRows(results, 0, accumulator);
                rows.Read(i, accumulator);
            }
            Assert.AreEqual(0, GC.GetAllocatedBytesForCurrentThread() - before, rows.GetType().Name);
        }
    }

    [TestMethod]
    [DataRow(2, KvStorageType.F32, 428, 1432)]
    [DataRow(4, KvStorageType.F32, 620, 1568)]
    [DataRow(2, KvStorageType.F16, 364, 920)]
    public void ByteCountIsCodesPlusScalesPlusTail(int bits, KvStorageType tail, int keyBytes, int valueBytes)
    {
        // 100 tokens of width 8, group 32, residual 32. Code bytes per token: 8·bits/8 = 2 (2-bit) or 4 (4-bit).
        // Keys: ⌊100/32⌋·32 = 96 quantised in 3 groups, 4 in the tail:
        //   2-bit f32 tail: 96·2 + 3·(8·4 + 4) + 4·8·4 = 192 + 108 + 128 = 428;  4-bit: 384 + 108 + 128 = 620;
        //   2-bit f16 tail: 192 + 108 + 4·8·2 = 364.
        // Values: 100 − 32 = 68 quantised, one channel group each (4 bytes), 32 in the tail:
        //   2-bit f32: 68·(2 + 4) + 32·8·4 = 408 + 1024 = 1432;  4-bit: 68·8 + 1024 = 1568;  2-bit f16: 408 + 512 = 920.
        var format = new KiviFormat(bits, 32, 32);
        var keys = new KiviKeyRows(8, format, tail);
        var values = new KiviValueRows(8, format, tail);
        foreach (var row in RandomRows(100, 8, seed: 3))
        {
            keys.Append(row);
            values.Append(row);
        }
        Assert.AreEqual(keyBytes, keys.ByteCount);
        Assert.AreEqual(valueBytes, values.ByteCount);
    }

    [TestMethod]
    [DataRow(32, 32)]
    [DataRow(32, 64)]
    [DataRow(8, 16)]
    public void ResidualRuleFollowsTheReference(int group, int residual)
    {
        // Keys: the tail holds n mod R and is quantised R at a time (R / group groups); values: the last R stay full.
        var format = new KiviFormat(2, group, residual);
        var keys = new KiviKeyRows(4, format);
        var values = new KiviValueRows(4, format);
        var data = RandomRows(200, 4, seed: 5);
        for (int n = 1; n <= data.Length; n++)
        {
            keys.Append(data[n - 1]);
            values.Append(data[n - 1]);
            Assert.AreEqual(n / residual * residual, keys.QuantizedCount, $"keys after {n}");
            Assert.AreEqual(n / residual * residual / group, keys.GroupCount, $"key groups after {n}");
            Assert.AreEqual(Math.Max(0, n - residual), values.QuantizedCount, $"values after {n}");
            Assert.AreEqual(n, keys.Count);
        }
    }

    [TestMethod]
    public void EvictionKeepsCodesExactlyAndDropsEmptiedGroups()
    {
        var format = new KiviFormat(2, Group: 8, Residual: 16);
        var keys = new KiviKeyRows(6, format);
        var values = new KiviValueRows(6, format);
        var data = RandomRows(70, 6, seed: 7);
        foreach (var row in data)
        {
            keys.Append(row);
            values.Append(row);
        }
        Assert.AreEqual(64, keys.QuantizedCount);
        Assert.AreEqual(8, keys.GroupCount);

        // Keep tokens 0-3 (group 0), nothing of groups 1-2 (tokens 8-23), every third token after that, and two tail rows.
        int[] keep = [.. Enumerable.Range(0, 4), .. Enumerable.Range(24, 40).Where(i => i % 3 == 0), 65, 69];
        var before = Snapshot(keys, keep);
        var valuesBefore = Snapshot(values, keep);
        keys.Keep(keep);
        values.Keep(keep);

        Assert.AreEqual(keep.Length, keys.Count);
        CollectionAssert.AreEqual(before, Snapshot(keys, Enumerable.Range(0, keep.Length).ToArray()), "kept keys are not re-quantised");
        CollectionAssert.AreEqual(valuesBefore, Snapshot(values, Enumerable.Range(0, keep.Length).ToArray()), "kept values are not re-quantised");
        int quantizedKept = keep.Count(i => i < 64);
        Assert.AreEqual(quantizedKept, keys.QuantizedCount);
        Assert.AreEqual(2, keys.TailCount);
        Assert.AreEqual(6, keys.GroupCount, "groups 1 and 2 lost every token; groups 0 and 3-7 keep some");
        CollectionAssert.AreEqual(new[] { 0, 4, 7, 10, 12, 15 }, keys.GroupStarts.ToArray());
        // Bytes follow the kept layout: 2 code bytes per quantised token (6·2 bits → 12 bits → 2 bytes).
        Assert.AreEqual(quantizedKept * 2 + 6 * (6 * 4 + 4) + 2 * 6 * 4, keys.ByteCount);

        // Appending continues the rule: the key tail flushes when it reaches R again.
        for (int i = 0; i < 14; i++) keys.Append(data[i]);
        Assert.AreEqual(quantizedKept + 16, keys.QuantizedCount);
        Assert.AreEqual(8, keys.GroupCount);
        Assert.AreEqual(0, keys.TailCount);
    }

    [TestMethod]
    public void QuantizePlanReleasesTheDenseRows()
    {
        var cache = new KvCache(layers: 2, kvHeads: 2, keyDim: 64, valueDim: 64);
        var data = RandomRows(300, 64, seed: 11);
        for (int t = 0; t < data.Length; t++)
            for (int l = 0; l < 2; l++)
                for (int h = 0; h < 2; h++) cache.Append(l, h, t, data[t], data[t]);
        long allocatedBefore = cache.AllocatedBytes;
        long bytesBefore = cache.ByteCount;

        cache.Apply(new QuantizePlan(1, new KiviFormat()));

        var head = cache.Head(1, 0);
        Assert.IsInstanceOfType<KiviKeyRows>(head.Keys);
        Assert.IsInstanceOfType<KiviValueRows>(head.Values);
        Assert.AreEqual(300, head.Count);
        CollectionAssert.AreEqual(Enumerable.Range(0, 300).ToArray(), head.Positions.ToArray());
        // Layer 0 is still dense (half the cache); layer 1's dense f32 buffers are gone: a 2-bit layer needs far less
        // than the 300 × 64 × 4 × 2 × 2 bytes its rows took.
        long denseLayer = 2L * 2 * 300 * 64 * 4;
        Assert.AreEqual(bytesBefore / 2, LayerBytes(cache, 0), "layer 0 untouched");
        Assert.IsTrue(LayerBytes(cache, 1) < denseLayer / 4, $"layer 1 holds {LayerBytes(cache, 1)} bytes");
        Assert.IsTrue(cache.AllocatedBytes < allocatedBefore - denseLayer / 2, $"allocated {allocatedBefore} → {cache.AllocatedBytes}");

        // Applying the same plan again changes nothing; Clear returns the head to dense f32.
        var keys = head.Keys;
        cache.Apply(new QuantizePlan(1, new KiviFormat()));
        Assert.AreSame(keys, cache.Head(1, 0).Keys);
        cache.Clear();
        Assert.AreEqual(KvStorageType.F32, cache.Head(1, 0).Keys.StorageType);
    }

    [TestMethod]
    public void BadSettingsAndIndicesAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new KiviFormat(Bits: 3).Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new KiviFormat(Group: 32, Residual: 48).Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new KiviFormat(Group: 0).Validate());
        Assert.ThrowsExactly<ArgumentException>(() => new KiviKeyRows(8, new KiviFormat(Bits: 8)));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new KvCache(1, 1, 8, 8, KvStorageType.Kivi));
        var keys = new KiviKeyRows(4, new KiviFormat(2, 4, 4));
        for (int i = 0; i < 6; i++) keys.Append([i, 0, 0, 0]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => keys.Read(6, new float[4]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => keys.DotRows(new float[4], 4, new float[3]));
        Assert.ThrowsExactly<ArgumentException>(() => keys.Keep([2, 1]));
        Assert.ThrowsExactly<ArgumentException>(() => new KvCache(1, 1, 8, 8).Apply(new QuantizePlan(0, new KiviFormat(Bits: 5))));
    }

    private static long LayerBytes(KvCache cache, int layer)
    {
        long bytes = 0;
        for (int h = 0; h < cache.KvHeadCount; h++) bytes += cache.Head(layer, h).ByteCount;
        return bytes;
    }

    private static float[] Snapshot(KvRows rows, int[] indices)
    {
        var all = new float[indices.Length * rows.Width];
        for (int j = 0; j < indices.Length; j++) rows.Read(indices[j], all.AsSpan(j * rows.Width, rows.Width));
        return all;
    }

    /// <summary>Gaussian-ish rows with one outlier channel (×20), like real keys.</summary>
    internal static float[][] RandomRows(int count, int width, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(c =>
        {
            double u = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5;
            return (float)(c == 1 ? 20 * u : u);
        }).ToArray()).ToArray();
    }
}
