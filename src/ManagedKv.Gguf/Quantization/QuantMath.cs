using System.Runtime.CompilerServices;

namespace ManagedKv.Gguf;

/// <summary>
/// Scalar primitives that reproduce the exact integer results of the C operations ggml's quantisers use,
/// on x86-64 built with GCC. .NET's own conversions differ at the edges (since .NET 9 float → int
/// saturates, while x86 <c>cvttss2si</c> returns 0x80000000 for NaN and out-of-range values), so every
/// conversion goes through one of these helpers.
/// </summary>
internal static class QuantMath
{
    /// <summary>
    /// ggml-quants.c <c>nearest_int</c>: adds 1.5·2^23 so that the FPU's round-to-nearest-even puts the
    /// integer in the low mantissa bits, then reads them back. Exact RNE for |x| ≤ 2^22; outside that range
    /// (and for NaN) it returns the same wrapped bits as the C code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float value)
    {
        int bits = BitConverter.SingleToInt32Bits(value + 12582912f);
        return (bits & 0x007FFFFF) - 0x00400000;
    }

    /// <summary>C's float → int conversion as x86 <c>cvttss2si</c>: truncation, 0x80000000 for NaN/out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TruncToInt32(float value) =>
        value >= -2147483648f && value < 2147483648f ? (int)value : int.MinValue;

    /// <summary>
    /// x86 <c>cvtps2dq</c> under the default MXCSR: round to nearest even, 0x80000000 for NaN/out of range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundToInt32(float value) =>
        value >= -2147483648f && value < 2147483648f ? (int)MathF.Round(value, MidpointRounding.ToEven) : int.MinValue;

    /// <summary>C <c>roundf</c>: nearest integer, halfway cases away from zero; NaN and ±∞ pass through.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundHalfAwayFromZero(float value)
    {
        float t = MathF.Truncate(value);
        // value - t is exact (it only clears the integer bits), so the comparison is exact too.
        return MathF.Abs(value - t) >= 0.5f ? t + MathF.CopySign(1f, value) : t;
    }

    /// <summary>
    /// The signed value of largest magnitude, first one wins: ggml's
    /// <c>if (ax &gt; amax) { amax = ax; max = x[i]; }</c> search, so NaNs are skipped.
    /// </summary>
    /// <param name="x">The values searched.</param>
    /// <param name="amax">Receives |max| (0 when every value is 0 or NaN).</param>
    public static float MaxByMagnitude(ReadOnlySpan<float> x, out float amax)
    {
        float max = 0;
        amax = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        return max;
    }

    /// <summary>The C macro <c>MAX(a, b)</c> = <c>a &gt; b ? a : b</c> (returns b when either is NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float CMax(float a, float b) => a > b ? a : b;

    /// <summary>x86 <c>maxps</c>/<c>maxss</c>: <c>a &gt; b ? a : b</c>, i.e. the second operand when either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxPs(float a, float b) => a > b ? a : b;

    /// <summary>Saturates an int to int8 (<c>packssdw</c> then <c>packsswb</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte SaturateToInt8(int value) => (sbyte)Math.Clamp(value, sbyte.MinValue, sbyte.MaxValue);
}
