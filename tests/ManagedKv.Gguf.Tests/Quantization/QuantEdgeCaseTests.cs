namespace ManagedKv.Gguf.Tests.Quantization;

/// <summary>
/// Hand-worked blocks for the reference quantisers: all-zero input, one huge value, the sign convention
/// for a negative maximum, ±∞, and argument checking. Expected bytes for the ∞ and f16-overflow cases were
/// also produced by the C reference functions compiled with GCC for x86-64 (as in ggml-base).
/// </summary>
[TestClass]
public sealed class QuantEdgeCaseTests
{
    private static readonly GgmlType[] QuantTypes =
        [GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q8_1,
         GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K];

    private static byte[] Quantize(GgmlType type, float[] x)
    {
        var bytes = new byte[GgmlTypeInfo.Get(type).RowBytes(x.Length)];
        GgmlQuants.QuantizeRow(type, x, bytes);
        return bytes;
    }

    private static float[] Dequantize(GgmlType type, byte[] bytes, int n)
    {
        var y = new float[n];
        GgmlQuants.DequantizeRow(type, bytes, y);
        return y;
    }

    /// <summary>
    /// An all-zero block dequantises to zeros. Q4_0 and Q5_0 compute d = max/−8 (−16) = −0, stored as f16
    /// 0x8000, and every code lands on the zero point (8 → nibbles 0x88; 16 → low nibbles 0 and all 32 high
    /// bits set); every other format writes all-zero bytes.
    /// </summary>
    [TestMethod]
    public void AllZeroBlocks()
    {
        foreach (GgmlType type in QuantTypes)
        {
            var x = new float[256];
            byte[] q = Quantize(type, x);
            int blockBytes = GgmlTypeInfo.Get(type).BlockBytes;
            byte[] block = type switch
            {
                GgmlType.Q4_0 => [0x00, 0x80, .. Enumerable.Repeat((byte)0x88, 16)],
                GgmlType.Q5_0 => [0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, .. new byte[16]],
                _ => new byte[blockBytes],
            };
            for (int b = 0; b < q.Length; b += blockBytes)
                CollectionAssert.AreEqual(block, q[b..(b + blockBytes)], $"{type} block at {b}");
            CollectionAssert.AreEqual(x, Dequantize(type, q, x.Length), $"{type} round trip");
        }
    }

    /// <summary>
    /// Q4_0 with a positive maximum: d = 8/−8 = −1 (f16 0xBC00). Codes are trunc(x/d + 8.5): 8 → 0, 7 → 1,
    /// 0 → 8, −7 → 15, and −8 → 16, clamped to 15 so it comes back as −7 (the format's asymmetry).
    /// Negating the block flips d to +1 and mirrors the clamp.
    /// </summary>
    [TestMethod]
    public void Q4_0SignConventionAndClamp()
    {
        var x = new float[32];
        x[0] = 8; x[1] = 7; x[2] = -7; x[3] = -8;
        byte[] q = Quantize(GgmlType.Q4_0, x);
        byte[] expected = [0x00, 0xBC, 0x80, 0x81, 0x8F, 0x8F, .. Enumerable.Repeat((byte)0x88, 12)];
        CollectionAssert.AreEqual(expected, q);
        float[] y = Dequantize(GgmlType.Q4_0, q, 32);
        CollectionAssert.AreEqual(new float[] { 8, 7, -7, -7 }, y[..4]);

        float[] neg = x.Select(v => -v).ToArray();
        byte[] qn = Quantize(GgmlType.Q4_0, neg);
        Assert.AreEqual(0x3C00, BitConverter.ToUInt16(qn, 0), "d = -8/-8 = +1");
        CollectionAssert.AreEqual(new float[] { -8, -7, 7, 7 }, Dequantize(GgmlType.Q4_0, qn, 32)[..4]);
    }

    /// <summary>
    /// Q8_K (quantize_row_q8_K_ref) scales by iscale = −127/max with max the signed value of largest
    /// magnitude, so that value always becomes code −127 and d = 1/iscale takes the opposite sign of max.
    /// Here max = 127/128, so iscale = −128 exactly and halves are visible: −2.5 → −2 and 1.5 → 2 (nearest_int
    /// rounds to even; roundf would give −3). bsums[0] = −127 − 2 + 4 + 0 + 2 = −123.
    /// </summary>
    [TestMethod]
    public void Q8KSignConventionAndBsums()
    {
        var x = new float[256];
        x[0] = 127f / 128; x[1] = 2.5f / 128; x[2] = -3.5f / 128; x[3] = 0.5f / 128; x[4] = -1.5f / 128; x[16] = 0.25f;
        byte[] q = Quantize(GgmlType.Q8_K, x);
        Assert.AreEqual(-1f / 128, Q8K.ReadD(q));
        CollectionAssert.AreEqual(new sbyte[] { -127, -2, 4, 0, 2, 0 }, q[4..10].Select(b => (sbyte)b).ToArray());
        Assert.AreEqual(-123, Q8K.ReadBsum(q, 0));
        Assert.AreEqual(-32, Q8K.ReadBsum(q, 1)); // 0.25·(−128) = −32
        for (int j = 2; j < 16; j++) Assert.AreEqual(0, Q8K.ReadBsum(q, j));

        byte[] qn = Quantize(GgmlType.Q8_K, x.Select(v => -v).ToArray());
        Assert.AreEqual(1f / 128, Q8K.ReadD(qn), "negative max: iscale and d flip sign, codes do not");
        CollectionAssert.AreEqual(q[4..], qn[4..]);
        float[] y = Dequantize(GgmlType.Q8_K, q, 256);
        CollectionAssert.AreEqual(new[] { 127f / 128, 2f / 128, -4f / 128, 0f, -2f / 128 }, y[..5]);
        Assert.AreEqual(0.25f, y[16]);
    }

    /// <summary>
    /// One value 10^4 times larger than the rest: every format must keep it (its group's scale is set by it)
    /// and must not disturb values outside its group by more than a few times their own size.
    /// </summary>
    [TestMethod]
    public void OneHugeValue()
    {
        var rng = new Random(1234);
        var x = new float[512];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() - 0.5) * 0.02f;
        const int hugeAt = 300;
        x[hugeAt] = 100f;
        float smallMax = x.Where((_, i) => i != hugeAt).Max(MathF.Abs);
        foreach (GgmlType type in QuantTypes)
        {
            float[] y = Dequantize(type, Quantize(type, x), x.Length);
            Assert.IsTrue(y.All(float.IsFinite), $"{type}: non-finite output");
            Assert.AreEqual(100f, y[hugeAt], 100f * 0.01f, $"{type}: huge value");
            int group = type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q6_K ? 16 : 32;
            for (int i = 0; i < x.Length; i++)
            {
                if (i / group == hugeAt / group) continue;
                Assert.IsLessThanOrEqualTo(3 * smallMax, MathF.Abs(y[i] - x[i]), $"{type}: element {i}");
            }
        }
    }

    /// <summary>
    /// ±∞ in a block (bytes confirmed against the C reference compiled with GCC): the scale becomes ±∞, the
    /// multiplier 1/d = ±0, and ∞·0 = NaN goes through C's float → int8 conversion (x86 cvttss2si yields
    /// 0x80000000, whose low byte is 0). Q8_0: d = +∞ (0x7C00) and every code 0. Q4_0: d = ∞/−8 = −∞ (0xFC00),
    /// finite values at the zero point 8, the ∞ itself code 0.
    /// </summary>
    [TestMethod]
    public void InfinityInAReferenceBlock()
    {
        var x = new float[32];
        x[0] = 1; x[1] = 2; x[2] = float.PositiveInfinity; x[3] = -3;
        CollectionAssert.AreEqual(Convert.FromHexString("007C" + new string('0', 64)), Quantize(GgmlType.Q8_0, x));
        CollectionAssert.AreEqual(Convert.FromHexString("00FC8888808888888888888888888888" + "8888"), Quantize(GgmlType.Q4_0, x));
        CollectionAssert.AreEqual(Convert.FromHexString("007C00C2" + new string('0', 32)), Quantize(GgmlType.Q4_1, x));
    }

    /// <summary>
    /// A scale that overflows f16 is stored as +∞ (65520·127/127 rounds up past 65504); the reference keeps
    /// the unrounded 1/d as multiplier, so the codes are still meaningful (C reference bytes).
    /// </summary>
    [TestMethod]
    public void ScaleOverflowingF16()
    {
        var x = new float[32];
        x[0] = 65520f * 127; x[1] = -1;
        CollectionAssert.AreEqual(Convert.FromHexString("007C7F" + new string('0', 62)), Quantize(GgmlType.Q8_0, x));
        CollectionAssert.AreEqual(Convert.FromHexString("00FC80" + new string('8', 30)), Quantize(GgmlType.Q4_0, x));
    }

    [TestMethod]
    public void WrongSpanLengthsThrowArgumentException()
    {
        foreach (GgmlType type in QuantTypes.Concat([GgmlType.F32, GgmlType.F16, GgmlType.BF16]))
        {
            var info = GgmlTypeInfo.Get(type);
            int n = info.BlockSize * 2;
            int bytes = (int)info.RowBytes(n);
            Assert.ThrowsExactly<ArgumentException>(() => GgmlQuants.DequantizeRow(type, new byte[bytes - 1], new float[n]), $"{type} short src");
            Assert.ThrowsExactly<ArgumentException>(() => GgmlQuants.DequantizeRow(type, new byte[bytes + 1], new float[n]), $"{type} long src");
            Assert.ThrowsExactly<ArgumentException>(() => GgmlQuants.QuantizeRow(type, new float[n], new byte[bytes + 1]), $"{type} long dst");
            if (info.BlockSize > 1)
            {
                Assert.ThrowsExactly<ArgumentException>(() => GgmlQuants.DequantizeRow(type, new byte[bytes], new float[n - 1]), $"{type} partial block");
                Assert.ThrowsExactly<ArgumentException>(() => GgmlQuants.QuantizeRow(type, new float[n + 1], new byte[bytes]), $"{type} partial block");
            }
        }
        Assert.ThrowsExactly<ArgumentException>(() => QuantDot.Dot(GgmlType.Q4_0, new byte[36], new byte[34]));
        Assert.ThrowsExactly<ArgumentException>(() => QuantDot.Dot(GgmlType.Q4_0, new byte[35], new byte[68]));
        Assert.ThrowsExactly<ArgumentException>(() => QuantDot.Dot(GgmlType.Q4_K, new byte[144], new byte[291]));
        Assert.ThrowsExactly<ArgumentException>(() => ActivationQuants.QuantizeQ8_K(new float[256], new byte[290]));
    }

    [TestMethod]
    public void UnsupportedTypesAreReported()
    {
        Assert.IsFalse(GgmlQuants.CanDequantize(GgmlType.IQ2_XXS));
        Assert.IsFalse(GgmlQuants.CanQuantize(GgmlType.MXFP4));
        Assert.ThrowsExactly<NotSupportedException>(() => GgmlQuants.DequantizeRow(GgmlType.IQ2_XXS, new byte[66], new float[256]));
        Assert.ThrowsExactly<NotSupportedException>(() => GgmlQuants.QuantizeRow(GgmlType.I32, new float[4], new byte[16]));
        Assert.ThrowsExactly<NotSupportedException>(() => QuantDot.VecDotType(GgmlType.Q8_K));
    }
}
