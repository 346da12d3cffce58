namespace ManagedKv.Gguf.Tests.Quantization;

[TestClass]
public sealed class HalfFloatTests
{
    /// <summary>
    /// ggml-impl.h ggml_compute_fp32_to_fp16 (the FP16 library's bit-level algorithm that ggml-base uses),
    /// restated as an oracle independent of System.Half.
    /// </summary>
    private static ushort GgmlSoftwareFp32ToFp16(float f)
    {
        float scaleToInf = BitConverter.UInt32BitsToSingle(0x77800000);
        float scaleToZero = BitConverter.UInt32BitsToSingle(0x08800000);
        float baseValue = MathF.Abs(f) * scaleToInf * scaleToZero;
        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1W = w + w;
        uint sign = w & 0x80000000;
        uint bias = shl1W & 0xFF000000;
        if (bias < 0x71000000) bias = 0x71000000;
        baseValue = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000) + baseValue;
        uint bits = BitConverter.SingleToUInt32Bits(baseValue);
        uint expBits = (bits >> 13) & 0x00007C00;
        uint mantissaBits = bits & 0x00000FFF;
        uint nonsign = expBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000 ? 0x7E00u : nonsign));
    }

    [TestMethod]
    public void Fp16MatchesGgmlSoftwareConversionOnASweepOfAllBitPatterns()
    {
        int mismatches = 0;
        string first = "";
        for (ulong u = 0; u < 1ul << 32; u += 4093)
        {
            float f = BitConverter.UInt32BitsToSingle((uint)u);
            ushort expected = GgmlSoftwareFp32ToFp16(f), actual = Fp16.FromSingle(f);
            if (expected != actual && mismatches++ == 0) first = $"{u:X8}: {actual:X4} vs {expected:X4}";
        }
        Assert.AreEqual(0, mismatches, first);
    }

    [TestMethod]
    [DataRow(65504f, (ushort)0x7BFF)]
    [DataRow(65519.996f, (ushort)0x7BFF)]
    [DataRow(65520f, (ushort)0x7C00)]             // rounds up to +inf
    [DataRow(float.NegativeInfinity, (ushort)0xFC00)]
    [DataRow(1.00048828125f, (ushort)0x3C00)]     // 1 + 2^-11: tie, to even
    [DataRow(1.00146484375f, (ushort)0x3C02)]     // 1 + 3·2^-11: tie, to even (up)
    [DataRow(2.98023224e-08f, (ushort)0x0000)]    // 2^-25: tie between 0 and the smallest subnormal → 0
    [DataRow(2.98023259e-08f, (ushort)0x0001)]    // just above → smallest subnormal, not flushed
    [DataRow(-0f, (ushort)0x8000)]
    public void Fp16Cases(float value, ushort bits)
    {
        Assert.AreEqual(bits, Fp16.FromSingle(value));
        Assert.AreEqual(bits, Fp16.FromSingleF16C(value));
        Assert.AreEqual(GgmlSoftwareFp32ToFp16(value), bits);
    }

    [TestMethod]
    public void Fp16NaNSoftwareIsCanonicalF16CKeepsPayload()
    {
        float payload = BitConverter.UInt32BitsToSingle(0xFFA00001);
        Assert.AreEqual((ushort)0xFE00, Fp16.FromSingle(payload));
        Assert.AreEqual((ushort)0xFF00, Fp16.FromSingleF16C(payload)); // quiet bit set, top payload bits 0x100
        Assert.AreEqual((ushort)0x7E00, Fp16.FromSingle(BitConverter.UInt32BitsToSingle(0x7F800001)));
        Assert.AreEqual((ushort)0x7E00, Fp16.FromSingleF16C(BitConverter.UInt32BitsToSingle(0x7F800001)));
        Assert.IsTrue(float.IsNaN(Fp16.ToSingle(0x7E00)));
    }

    [TestMethod]
    public void Fp16ToSingleIsExactForEveryHalf()
    {
        for (int h = 0; h < 0x10000; h++)
        {
            float f = Fp16.ToSingle((ushort)h);
            if (float.IsNaN(f)) continue;
            Assert.AreEqual((ushort)h, Fp16.FromSingle(f), $"half {h:X4} does not round-trip");
        }
    }

    [TestMethod]
    [DataRow(0x3F800000u, (ushort)0x3F80)]
    [DataRow(0x3F808000u, (ushort)0x3F80)] // tie, lsb 0: stays
    [DataRow(0x3F818000u, (ushort)0x3F82)] // tie, lsb 1: up to even
    [DataRow(0x3F808001u, (ushort)0x3F81)] // above the tie
    [DataRow(0x7F7FFFFFu, (ushort)0x7F80)] // FLT_MAX rounds to +inf
    [DataRow(0xFF800000u, (ushort)0xFF80)] // -inf
    [DataRow(0x7F800001u, (ushort)0x7FC0)] // signalling NaN: truncated, quiet bit forced
    [DataRow(0xFFA12345u, (ushort)0xFFE1)] // payload kept in the top bits
    [DataRow(0x00010000u, (ushort)0x0001)] // subnormal kept (current ggml does not flush)
    [DataRow(0x00018000u, (ushort)0x0002)] // subnormal tie to even
    [DataRow(0x80000001u, (ushort)0x8000)] // tiny negative subnormal rounds to -0
    public void Bf16Cases(uint f32Bits, ushort bf16Bits)
    {
        Assert.AreEqual(bf16Bits, Bf16.FromSingle(BitConverter.UInt32BitsToSingle(f32Bits)));
        Assert.AreEqual((uint)bf16Bits << 16, BitConverter.SingleToUInt32Bits(Bf16.ToSingle(bf16Bits)));
    }
}
