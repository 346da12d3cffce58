using ManagedKv.Gguf;
using ManagedKv.Model.Numerics;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary>
/// <see cref="HalfDot"/> against ggml_vec_dot_f16/bf16 of the golden build and <see cref="HalfDot.DotProductBf16"/>
/// against the <c>vdpbf16ps</c> instruction on the golden machine.
/// </summary>
[TestClass]
public sealed class HalfDotTests
{
    [TestMethod]
    public void VecDotF16MatchesGgml()
    {
        var (a, b) = HalfInputs(9, Fp16.FromSingle);
        NumericsVectors.AssertBits(GgmlReference.VecDotF16N100Seed9, [HalfDot.VecDotF16(a, b)], "ggml_vec_dot_f16 n=100");
        // all 100 products in f64 (ggml's scalar order) round differently
        double d = 0;
        for (int i = 0; i < a.Length; i++) d += Fp16.ToSingle(a[i]) * Fp16.ToSingle(b[i]);
        Assert.AreNotEqual(GgmlReference.VecDotF16N100Seed9[0], BitConverter.SingleToUInt32Bits((float)d));
    }

    [TestMethod]
    public void VecDotBf16MatchesGgml()
    {
        var (a, b) = HalfInputs(10, Bf16.FromSingle);
        NumericsVectors.AssertBits(GgmlReference.VecDotBf16N100Seed10, [HalfDot.VecDotBf16(a, b)], "ggml_vec_dot_bf16 n=100");
    }

    [TestMethod]
    public void Dpbf16MatchesTheInstruction()
    {
        var (a, b, acc) = Inputs();
        NumericsVectors.AssertBits(GgmlReference.Dpbf16Acc, acc, "accumulator input");
        HalfDot.DotProductBf16(acc, a, b);
        NumericsVectors.AssertBits(GgmlReference.Dpbf16Out, acc, "vdpbf16ps");
    }

    [TestMethod]
    public void Dpbf16AddsTheOddProductFirst()
    {
        // acc = 2^24, odd product 1, even product −2^24: odd first, 2^24 + 1 rounds to 2^24 and the even product
        // cancels it (0); even first would give 0 + 1 = 1.
        var acc = new float[16];
        acc[0] = 1 << 24;
        var a = new ushort[32];
        var b = new ushort[32];
        a[1] = Bf16.FromSingle(1f); b[1] = Bf16.FromSingle(1f);
        a[0] = Bf16.FromSingle(-(1 << 24)); b[0] = Bf16.FromSingle(1f);
        HalfDot.DotProductBf16(acc, a, b);
        Assert.AreEqual(0f, acc[0]);
    }

    [TestMethod]
    public void Dpbf16FlushesDenormals()
    {
        var acc = new float[16];
        acc[0] = BitConverter.UInt32BitsToSingle(0x00001234); // denormal accumulator is read as zero
        var a = new ushort[32];
        var b = new ushort[32];
        a[2] = 0x0001; b[2] = 0x3f80;                           // denormal bf16 input times 1 → 0
        a[8] = 0x0080; b[8] = 0x3f00;                           // 2^-126 · 0.5 is denormal → flushed
        a[6] = 0x0100; b[6] = 0x3f00;                           // 2^-125 · 0.5 = 2^-126 is normal
        HalfDot.DotProductBf16(acc, a, b);
        Assert.AreEqual(0u, BitConverter.SingleToUInt32Bits(acc[0]));
        Assert.AreEqual(0u, BitConverter.SingleToUInt32Bits(acc[1]));
        Assert.AreEqual(0x00800000u, BitConverter.SingleToUInt32Bits(acc[3]));
        Assert.AreEqual(0u, BitConverter.SingleToUInt32Bits(acc[4]));
    }

    private static (ushort[] A, ushort[] B) HalfInputs(uint seed, Func<float, ushort> convert)
    {
        var gen = new NumericsVectors(seed);
        return (gen.Take(100).Select(convert).ToArray(), gen.Take(100).Select(convert).ToArray());
    }

    private static (ushort[] A, ushort[] B, float[] Acc) Inputs()
    {
        var gen = new NumericsVectors(77);
        var a = new ushort[32];
        var b = new ushort[32];
        for (int i = 0; i < 32; i++)
        {
            a[i] = Bf16.FromSingle(gen.Next());
            b[i] = Bf16.FromSingle(gen.Next());
        }
        var acc = new float[16];
        for (int j = 0; j < 16; j++) acc[j] = gen.Next() * 64.0f;
        return (a, b, acc);
    }
}
