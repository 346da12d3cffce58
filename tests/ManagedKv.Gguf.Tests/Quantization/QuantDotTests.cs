namespace ManagedKv.Gguf.Tests.Quantization;

[TestClass]
public sealed class QuantDotTests
{
    [TestMethod]
    public void VecDotTypesFollowGgmlCpu()
    {
        Assert.AreEqual(GgmlType.F32, QuantDot.VecDotType(GgmlType.F32));
        Assert.AreEqual(GgmlType.F16, QuantDot.VecDotType(GgmlType.F16));
        Assert.AreEqual(GgmlType.BF16, QuantDot.VecDotType(GgmlType.BF16));
        foreach (var t in new[] { GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0 }) Assert.AreEqual(GgmlType.Q8_0, QuantDot.VecDotType(t));
        foreach (var t in new[] { GgmlType.Q4_1, GgmlType.Q5_1 }) Assert.AreEqual(GgmlType.Q8_1, QuantDot.VecDotType(t));
        foreach (var t in new[] { GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
            Assert.AreEqual(GgmlType.Q8_K, QuantDot.VecDotType(t));
    }

    /// <summary>
    /// Q4_0 weights [8, 7, −7, −8, 0…] (d = −1, codes 0, 1, 15, 15, 8…) against Q8_0 activations
    /// [1, 1, 1, 1, 0…] (d = f16(1/127), codes 127): sumi = 127·((0−8) + (1−8) + (15−8) + (15−8)) = −127 and
    /// ggml accumulates sumi·dx·dy in that order.
    /// </summary>
    [TestMethod]
    public void HandWorkedQ4_0Dot()
    {
        var w = new float[32];
        w[0] = 8; w[1] = 7; w[2] = -7; w[3] = -8;
        var wq = new byte[18];
        GgmlQuants.QuantizeRow(GgmlType.Q4_0, w, wq);
        var a = new float[32];
        a[0] = a[1] = a[2] = a[3] = 1;
        var aq = new byte[34];
        ActivationQuants.QuantizeQ8_0(a, aq);
        float dy = Fp16.Round(1f / 127);
        Assert.AreEqual(-127 * -1f * dy, QuantDot.Dot(GgmlType.Q4_0, wq, aq));
    }

    /// <summary>
    /// For a weight row of every golden type and activations in its vec_dot type, the scalar dot equals the
    /// dot of the dequantised rows (computed in f64) up to f32 accumulation rounding. Since the dot product
    /// reads the codes, scales, mins and block sums itself, this cross-checks each format's dot against its
    /// dequantiser (which the F32 comparison pins to llama.cpp's layout). Q4_1/Q5_1 add m·s per block with
    /// s = f16(dy·Σqy) as stored in the Q8_1 block, so their tolerance includes that term's f16 rounding
    /// (2^-11·|m·s| per block).
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(VariantsWithF32))]
    public void DotEqualsTheDotOfDequantisedRows(string variant)
    {
        GgufFile file = TinyLlama.Open(variant);
        var rng = new Random(42);
        var seen = new HashSet<GgmlType>();
        foreach (GgufTensorInfo t in file.Tensors.Where(t => t.RowCount >= 8))
        {
            if (!seen.Add(t.Type)) continue;
            int n = (int)t.RowLength;
            GgmlType vecDot = QuantDot.VecDotType(t.Type);
            var a = new float[n];
            var aq = new byte[GgmlTypeInfo.Get(vecDot).RowBytes(n)];
            var aDeq = new float[n];
            var wDeq = new float[n];
            for (int row = 0; row < 8; row++)
            {
                for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 7 == 0 ? 4 : 1);
                ActivationQuants.Quantize(t.Type, a, aq);
                GgmlQuants.DequantizeRow(vecDot, aq, aDeq);
                ReadOnlySpan<byte> w = file.GetRowBytes(t, row);
                GgmlQuants.DequantizeRow(t.Type, w, wDeq);
                double expected = 0, magnitude = 0;
                for (int i = 0; i < n; i++)
                {
                    expected += (double)wDeq[i] * aDeq[i];
                    magnitude += Math.Abs((double)wDeq[i] * aDeq[i]);
                }
                double sTerm = 0;
                if (vecDot == GgmlType.Q8_1)
                {
                    int mOffset = t.Type == GgmlType.Q4_1 ? Q4_1.OffsetM : Q5_1.OffsetM;
                    int wBlock = GgmlTypeInfo.Get(t.Type).BlockBytes;
                    for (int b = 0; b < n / 32; b++)
                        sTerm += Math.Abs(Fp16.Read(w, b * wBlock + mOffset) * Fp16.Read(aq, b * Q8_1.BlockBytes + Q8_1.OffsetS));
                }
                float actual = QuantDot.Dot(t.Type, w, aq);
                Assert.AreEqual(expected, actual, 2e-6 * magnitude + sTerm / 2048 + 1e-30, $"{variant} {t.Name} ({t.Type}) row {row}");
            }
        }
        Assert.IsNotEmpty(seen);
    }

    public static IEnumerable<object[]> VariantsWithF32 => TinyLlama.VariantRows.Append(["F32"]);
}
