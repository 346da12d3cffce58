namespace ManagedKv.Model.Numerics;

/// <summary>
/// ggml's vectorised exponential and SiLU (vec.h, the AVX-512F + AVX-512DQ variants), one lane at a time.
/// They are not correctly rounded: <c>ggml_v_expf</c> is a degree-5 polynomial after a two-step range
/// reduction (error up to about 1.5 ulp), so its results differ from <see cref="MathF.Exp(float)"/> (glibc's
/// correctly rounded-in-practice <c>expf</c>) in the last bits for many inputs.
/// </summary>
public static class GgmlExp
{
    // The constants of vec.h, written in C as hex floats; here as their exact bit patterns.
    private static readonly float Shift = BitConverter.Int32BitsToSingle(0x4b400000); // 0x1.8p23f: 1.5·2^23
    private static readonly float Log2E = BitConverter.Int32BitsToSingle(0x3fb8aa3b); // 0x1.715476p+0f
    private static readonly float Ln2Hi = BitConverter.Int32BitsToSingle(0x3f317200); // 0x1.62e4p-1f
    private static readonly float Ln2Lo = BitConverter.Int32BitsToSingle(0x35bfbe8e); // 0x1.7f7d1cp-20f
    private static readonly float C5 = BitConverter.Int32BitsToSingle(0x3c072010);    // 0x1.0e4020p-7f
    private static readonly float C4 = BitConverter.Int32BitsToSingle(0x3d2b9f17);    // 0x1.573e2ep-5f
    private static readonly float C3 = BitConverter.Int32BitsToSingle(0x3e2aaf33);    // 0x1.555e66p-3f
    private static readonly float C2 = BitConverter.Int32BitsToSingle(0x3efffedb);    // 0x1.fffdb6p-2f
    private static readonly float C1 = BitConverter.Int32BitsToSingle(0x3f7ffff6);    // 0x1.ffffecp-1f

    /// <summary>
    /// One lane of <c>ggml_v_expf(__m512)</c>: n = round(x·log2 e) by the 1.5·2^23 trick, b = x − n·ln2 in two
    /// FMA steps, the polynomial in b and b² evaluated with the same FMA tree, scaled by 2^n with
    /// <c>vscalefps</c>; where |n| &gt; 192 the result is +∞ (n &gt; 0) or 0.
    /// </summary>
    public static float ExpF(float x)
    {
        float z = MathF.FusedMultiplyAdd(x, Log2E, Shift);
        float n = z - Shift;
        float b = MathF.FusedMultiplyAdd(-n, Ln2Lo, MathF.FusedMultiplyAdd(-n, Ln2Hi, x));
        float u = b * b;
        float j = MathF.FusedMultiplyAdd(
            MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(C5, b, C4), u, MathF.FusedMultiplyAdd(C3, b, C2)),
            u,
            MathF.FusedMultiplyAdd(C1, b, 1.0f));
        // _CMP_GT_OQ is false for NaN, so a NaN n falls through to scalef, which propagates it.
        if (MathF.Abs(n) > 192) return n <= 0 ? 0f : float.PositiveInfinity;
        return ScaleF(j, n);
    }

    /// <summary>One lane of <c>ggml_v_silu(__m512)</c>: x / (1 + ggml_v_expf(0 − x)).</summary>
    public static float Silu(float x) => x / (1.0f + ExpF(0.0f - x));

    /// <summary>
    /// <c>ggml_silu_f32</c>, the scalar SiLU ggml uses for elements left over after the 16-lane loop:
    /// x / (1 + expf(−x)) with the C library's expf (.NET's <see cref="MathF.Exp(float)"/> calls the same glibc
    /// function on Linux).
    /// </summary>
    public static float SiluScalar(float x) => x / (1.0f + MathF.Exp(-x));

    /// <summary><c>vscalefps</c> for an integral, in-range exponent: j·2^n rounded once (subnormals included).</summary>
    private static float ScaleF(float j, float n) => float.IsNaN(n) ? float.NaN : MathF.ScaleB(j, (int)n);
}
