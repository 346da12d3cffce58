namespace ManagedKv.Gguf.Tests.Quantization;

/// <summary>
/// The x86 activation quantisers against hand-worked blocks. Blocks with NaN/∞ use bytes produced by the
/// AVX2 + F16C instruction sequence of ggml-cpu/arch/x86/quants.c run on real hardware (an independent C
/// harness); the same harness agreed with <see cref="ActivationQuants"/> on 4000 random and special blocks.
/// </summary>
[TestClass]
public sealed class ActivationQuantTests
{
    private static sbyte[] Codes(byte[] q, int offset, int count) => q[offset..(offset + count)].Select(b => (sbyte)b).ToArray();

    /// <summary>
    /// amax = 127 makes d = 1 and both multipliers exactly 1, isolating the rounding rule: the x86 path
    /// rounds halves to even (_mm256_round_ps), the reference uses roundf (away from zero).
    /// Q8_1's s = d·Σq differs accordingly: 127+2+0+2+4−2 = 133 versus 127+3+1+2+4−3 = 134.
    /// </summary>
    [TestMethod]
    public void X86RoundsHalvesToEvenWhereTheReferenceRoundsAway()
    {
        var x = new float[32];
        x[0] = 127; x[1] = 2.5f; x[2] = 0.5f; x[3] = 1.5f; x[4] = 3.5f; x[5] = -2.5f;
        var act = new byte[34];
        ActivationQuants.QuantizeQ8_0(x, act);
        var reference = new byte[34];
        GgmlQuants.QuantizeRow(GgmlType.Q8_0, x, reference);
        Assert.AreEqual(0x3C00, BitConverter.ToUInt16(act, 0));
        Assert.AreEqual(0x3C00, BitConverter.ToUInt16(reference, 0));
        CollectionAssert.AreEqual(new sbyte[] { 127, 2, 0, 2, 4, -2, 0 }, Codes(act, Q8_0.OffsetQs, 7));
        CollectionAssert.AreEqual(new sbyte[] { 127, 3, 1, 2, 4, -3, 0 }, Codes(reference, Q8_0.OffsetQs, 7));

        var act1 = new byte[36];
        ActivationQuants.QuantizeQ8_1(x, act1);
        var ref1 = new byte[36];
        GgmlQuants.QuantizeRow(GgmlType.Q8_1, x, ref1);
        CollectionAssert.AreEqual(act[2..], act1[4..], "Q8_1 codes equal Q8_0's");
        Assert.AreEqual(133f, Fp16.Read(act1, Q8_1.OffsetS));
        Assert.AreEqual(134f, Fp16.Read(ref1, Q8_1.OffsetS));
    }

    /// <summary>
    /// The multiplier differs too: x86 uses id = 127/amax, the reference 1/(amax/127). For amax = 0.6875 these
    /// are 184.72728 and 184.727264 (one ulp apart). x = 0.0297736209 then scales to exactly 5.5 on x86
    /// (→ 6, even) but to 5.49999952 in the reference (→ 5). x = 0.0243602376 scales to 4.50000048 on x86
    /// (→ 5) and to exactly 4.5 in the reference (roundf → 5; rounding that to even would give 4).
    /// </summary>
    [TestMethod]
    public void X86MultipliesBy127OverAmax()
    {
        var x = new float[32];
        x[0] = 0.6875f; x[1] = 0.0297736209f; x[2] = 0.0243602376f;
        var act = new byte[34];
        ActivationQuants.QuantizeQ8_0(x, act);
        var reference = new byte[34];
        GgmlQuants.QuantizeRow(GgmlType.Q8_0, x, reference);
        CollectionAssert.AreEqual(new sbyte[] { 127, 6, 5 }, Codes(act, Q8_0.OffsetQs, 3));
        CollectionAssert.AreEqual(new sbyte[] { 127, 5, 5 }, Codes(reference, Q8_0.OffsetQs, 3));
        Assert.AreEqual(Fp16.FromSingle(0.6875f / 127), BitConverter.ToUInt16(act, 0));
    }

    /// <summary>
    /// Special values follow x86 semantics (hardware bytes): ∞ makes d = ∞ and the multiplier 0, so ∞·0 =
    /// NaN converts to 0x80000000 and saturates to −128 (the reference writes 0 there, see
    /// QuantEdgeCaseTests); Q8_1's s = ∞·(Σ including −2^31) = −∞. A NaN in most lanes drops out of the
    /// maxps reduction (which returns its second operand) but its own code is −128 — and it can take its
    /// lane's earlier values with it (NaN at index 8 resets lane 0's running max, so amax = 0 and the 1.0 at
    /// index 0 becomes code 0). Only a NaN at index 24 + 3 survives to the max; it keeps its payload through
    /// F16C (0x7F00 here) and turns every code into −128.
    /// </summary>
    [TestMethod]
    public void NaNAndInfinityFollowX86()
    {
        float snan = BitConverter.Int32BitsToSingle(0x7FA00001);
        (float[] X, string Q80, string Q81)[] cases =
        [
            (Block((0, 1), (1, 2), (2, float.PositiveInfinity), (3, -3)),
                "007C00008000" + new string('0', 56), "007C00FC00008000" + new string('0', 56)),
            (Block((0, 1), (5, -2), (9, snan), (20, 0.25f)),
                "08244000000000810000008000000000000000000000100000000000000000000000",
                "0824007C4000000000810000008000000000000000000000100000000000000000000000"),
            (Block((0, 1), (8, snan)),
                "00000000000000000000800000000000000000000000000000000000000000000000",
                "000000800000000000000000800000000000000000000000000000000000000000000000"),
            (Block((0, 1), (27, snan)),
                "007F" + string.Concat(Enumerable.Repeat("80", 32)), "007F007F" + string.Concat(Enumerable.Repeat("80", 32))),
        ];
        foreach (var (x, q80, q81) in cases)
        {
            var a0 = new byte[34];
            ActivationQuants.QuantizeQ8_0(x, a0);
            Assert.AreEqual(q80, Convert.ToHexString(a0));
            var a1 = new byte[36];
            ActivationQuants.QuantizeQ8_1(x, a1);
            Assert.AreEqual(q81, Convert.ToHexString(a1));
        }
    }

    private static float[] Block(params (int Index, float Value)[] values)
    {
        var x = new float[32];
        foreach (var (i, v) in values) x[i] = v;
        return x;
    }

    /// <summary>
    /// The Q8_K activation path is quantize_row_q8_K_ref itself: bsums are the sums of the stored codes per
    /// 16 and d·q reproduces smooth input to within half a step.
    /// </summary>
    [TestMethod]
    public void Q8KActivationsCarryBlockSums()
    {
        var rng = new Random(5);
        var x = new float[512];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * (i < 256 ? 1 : 1e-3f);
        var q = new byte[2 * Q8K.BlockBytes];
        ActivationQuants.QuantizeQ8_K(x, q);
        var reference = new byte[q.Length];
        GgmlQuants.QuantizeRow(GgmlType.Q8_K, x, reference);
        CollectionAssert.AreEqual(reference, q);
        for (int b = 0; b < 2; b++)
        {
            ReadOnlySpan<byte> block = q.AsSpan(b * Q8K.BlockBytes, Q8K.BlockBytes);
            float d = Q8K.ReadD(block);
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int k = 0; k < 16; k++) sum += (sbyte)block[Q8K.OffsetQs + 16 * j + k];
                Assert.AreEqual(sum, Q8K.ReadBsum(block, j));
            }
            for (int k = 0; k < 256; k++)
                Assert.IsLessThanOrEqualTo(MathF.Abs(d) * 0.5001f, MathF.Abs(d * (sbyte)block[Q8K.OffsetQs + k] - x[256 * b + k]));
        }
    }

    [TestMethod]
    public void QuantizeDispatchesOnTheVecDotType()
    {
        var rng = new Random(3);
        var x = new float[256];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
        foreach (GgmlType weight in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
                     GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
        {
            GgmlType vecDot = QuantDot.VecDotType(weight);
            var viaDispatch = new byte[GgmlTypeInfo.Get(vecDot).RowBytes(x.Length)];
            ActivationQuants.Quantize(weight, x, viaDispatch);
            var direct = new byte[viaDispatch.Length];
            switch (vecDot)
            {
                case GgmlType.Q8_0: ActivationQuants.QuantizeQ8_0(x, direct); break;
                case GgmlType.Q8_1: ActivationQuants.QuantizeQ8_1(x, direct); break;
                case GgmlType.Q8_K: ActivationQuants.QuantizeQ8_K(x, direct); break;
                default: GgmlQuants.QuantizeRow(vecDot, x, direct); break;
            }
            CollectionAssert.AreEqual(direct, viaDispatch, weight.ToString());
        }
    }
}
