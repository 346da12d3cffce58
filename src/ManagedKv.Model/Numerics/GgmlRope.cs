using ManagedKv.Model.Config;

namespace ManagedKv.Model.Numerics;

/// <summary>
/// The rotation of ggml-cpu's <c>rotate_pairs</c> (ops.cpp) as GCC compiled it: the two expressions
/// <c>x0·cos − x1·sin</c> and <c>x0·sin + x1·cos</c> are contracted to one fused multiply-add each (the
/// build uses <c>-std=gnu++17</c>, so <c>-ffp-contract=fast</c>), which rounds differently from two
/// rounded products and a rounded sum.
/// </summary>
public static class GgmlRope
{
    /// <summary>
    /// Rotates the first cos.Length pairs of <paramref name="head"/> in place: adjacent pairs for
    /// <see cref="RopeStyle.Norm"/>, (i, i + half) for <see cref="RopeStyle.Neox"/>.
    /// </summary>
    public static void Rotate(RopeStyle style, Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = cos.Length;
        if (sin.Length != half || head.Length < 2 * half) throw new ArgumentException("head shorter than the rotated dimensions", nameof(head));
        for (int i = 0; i < half; i++)
        {
            int a = style == RopeStyle.Norm ? 2 * i : i;
            int b = style == RopeStyle.Norm ? 2 * i + 1 : i + half;
            float x0 = head[a], x1 = head[b];
            head[a] = MathF.FusedMultiplyAdd(x0, cos[i], -(x1 * sin[i]));
            head[b] = MathF.FusedMultiplyAdd(x0, sin[i], x1 * cos[i]);
        }
    }
}
