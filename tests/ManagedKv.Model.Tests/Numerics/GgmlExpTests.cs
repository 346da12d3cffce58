using ManagedKv.Model.Numerics;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary><see cref="GgmlExp"/> against ggml_v_expf / ggml_v_silu compiled from vec.h with the golden build's flags.</summary>
[TestClass]
public sealed class GgmlExpTests
{
    [TestMethod]
    public void ExpMatchesGgmlVExpf()
    {
        var x = NumericsVectors.Floats(GgmlReference.ExpInput);
        NumericsVectors.AssertBits(GgmlReference.ExpGgml, x.Select(GgmlExp.ExpF).ToArray(), "ggml_v_expf");
    }

    [TestMethod]
    public void ExpDiffersFromTheLibraryExp()
    {
        // Eight of these sixteen inputs (−20.25, −1, −0.3, 0.7, 1, 10, 44.4, 88.3) come out one ulp away from
        // glibc's expf, and a dense scan of [−16, 16) in steps of 2^-11 found 36955 of 65536 inputs that differ.
        var x = NumericsVectors.Floats(GgmlReference.ExpInput);
        Assert.AreEqual(8, NumericsVectors.CountDifferent(GgmlReference.ExpGgml, NumericsVectors.Floats(GgmlReference.ExpGlibc)));
        foreach (float input in NumericsVectors.Floats(GgmlReference.ExpDifferingInputs))
            Assert.AreNotEqual(MathF.Exp(input), GgmlExp.ExpF(input), $"exp({input:R})");
        Assert.IsTrue(NumericsVectors.CountDifferent(GgmlReference.ExpGgml, x.Select(MathF.Exp).ToArray()) > 0);
    }

    [TestMethod]
    public void ExpHandlesTheRangeEnds()
    {
        // |n| > 192 → 0 or +inf; NaN propagates; denormal results come from the scaling step
        Assert.AreEqual(0f, GgmlExp.ExpF(-200f));
        Assert.AreEqual(0f, GgmlExp.ExpF(float.NegativeInfinity));
        Assert.AreEqual(float.PositiveInfinity, GgmlExp.ExpF(200f));
        Assert.IsTrue(float.IsNaN(GgmlExp.ExpF(float.NaN)));
        Assert.AreEqual(0x00000001u, BitConverter.SingleToUInt32Bits(GgmlExp.ExpF(-103.5f)));
    }

    [TestMethod]
    public void SiluMatchesGgmlVSilu()
    {
        var x = NumericsVectors.Floats(GgmlReference.ExpInput);
        NumericsVectors.AssertBits(GgmlReference.SiluGgml, x.Select(GgmlExp.Silu).ToArray(), "ggml_v_silu");
    }
}
