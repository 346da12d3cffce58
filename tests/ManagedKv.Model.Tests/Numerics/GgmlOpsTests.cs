using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Numerics;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary>Soft-max, SwiGLU and RoPE rows against ggml_soft_max_ext, ggml_swiglu_split and ggml_rope_ext of the golden build.</summary>
[TestClass]
public sealed class GgmlOpsTests
{
    private const int N = 37; // two 16-lane chunks and a scalar tail of 5

    [TestMethod]
    public void SoftMaxMatchesGgml()
    {
        var (x, _, _) = Inputs();
        var scaled = x.Select(v => v * 0.125f).ToArray();
        float max = scaled.Max();
        var y = new float[N];
        double sum = GgmlVec.SoftMaxExp(scaled, y, max);
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < N; i++) y[i] *= inv;
        NumericsVectors.AssertBits(GgmlReference.SoftMaxN37, y, "soft_max_ext");

        // with the library exp everywhere the result is not ggml's
        var naive = scaled.Select(v => MathF.Exp(v - max)).ToArray();
        double naiveSum = naive.Sum(v => (double)v);
        Assert.IsTrue(NumericsVectors.CountDifferent(GgmlReference.SoftMaxN37, naive.Select(v => v * (float)(1.0 / naiveSum)).ToArray()) > 0);
    }

    [TestMethod]
    public void SwiGluMatchesGgml()
    {
        var (x, g, _) = Inputs();
        var y = new float[N];
        GgmlVec.SwiGlu(x, g, y);
        NumericsVectors.AssertBits(GgmlReference.SwiGluN37, y, "swiglu_split");
        var naive = x.Select((v, i) => v / (1 + MathF.Exp(-v)) * g[i]).ToArray();
        Assert.IsTrue(NumericsVectors.CountDifferent(GgmlReference.SwiGluN37, naive) > 0);
    }

    [TestMethod]
    [DataRow(RopeStyle.Norm)]
    [DataRow(RopeStyle.Neox)]
    public void RopeMatchesGgml(RopeStyle style)
    {
        var (_, _, q) = Inputs();
        var rope = new RopeParameters(style, 8, 10000f, 1f, null);
        int[] positions = [0, 7, 1000];
        Span<float> cos = stackalloc float[4], sin = stackalloc float[4];
        var fused = (float[])q.Clone();
        for (int t = 0; t < positions.Length; t++)
        {
            rope.Angles(positions[t], cos, sin);
            GgmlRope.Rotate(style, fused.AsSpan(8 * t, 8), cos, sin);
        }
        var expected = style == RopeStyle.Norm ? GgmlReference.RopeNorm : GgmlReference.RopeNeox;
        NumericsVectors.AssertBits(expected, fused, $"rope {style}");

        // three separate roundings (RopeParameters.Rotate) miss some of ggml's values
        var rounded = (float[])q.Clone();
        for (int t = 0; t < positions.Length; t++)
        {
            rope.Angles(positions[t], cos, sin);
            rope.Rotate(rounded.AsSpan(8 * t, 8), cos, sin);
        }
        Assert.IsTrue(NumericsVectors.CountDifferent(expected, rounded) > 0);
    }

    [TestMethod]
    public void RopeIsContracted()
    {
        // x0·cos − x1·sin with one rounding of x1·sin and one of the fused result, versus three roundings
        float x0 = 1.0000001f, x1 = 0.99999994f, c = 0.70710677f, s = 0.70710677f;
        Span<float> head = [x0, x1];
        GgmlRope.Rotate(RopeStyle.Norm, head, [c], [s]);
        Assert.AreEqual(MathF.FusedMultiplyAdd(x0, c, -(x1 * s)), head[0]);
        Assert.AreNotEqual(x0 * c - x1 * s, head[0]);
    }

    private static (float[] X, float[] G, float[] Q) Inputs()
    {
        var gen = new NumericsVectors(4242);
        var x = gen.Take(N).Select(v => v * 8.0f).ToArray();
        return (x, gen.Take(N), gen.Take(24));
    }
}
