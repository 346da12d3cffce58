using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ManagedKv.Model.Cache.Kivi;

/// <summary>
/// Asymmetric (min/max, zero point) uniform quantisation and the bit packing KIVI uses: x ≈ min + scale·code with
/// code ∈ [0, 2^bits − 1]. Min and scale are stored as f16, as in the reference code; they are rounded outward
/// (min down, scale up) so that [min, min + maxCode·scale] still covers the group and every element's error stays
/// within scale / 2. Codes are packed low bits first: with 2 bits element e sits in byte e / 4 at bit 2·(e mod 4);
/// with 4 bits in byte e / 2 at bit 4·(e mod 2).
/// </summary>
internal static class AsymmetricQuantizer
{
    /// <summary>Min and scale (as f16) for a group whose elements lie in [<paramref name="lo"/>, <paramref name="hi"/>].</summary>
    public static (Half Min, Half Scale) Fit(float lo, float hi, int maxCode)
    {
        // Values beyond f16's range saturate (the reference keeps the whole cache in f16, where they cannot occur).
        lo = Math.Clamp(lo, (float)Half.MinValue, (float)Half.MaxValue);
        hi = Math.Clamp(hi, lo, (float)Half.MaxValue);
        var min = (Half)lo;
        if ((float)min > lo) min = Half.BitDecrement(min);
        float step = (hi - (float)min) / maxCode;
        var scale = (Half)step;
        if ((float)scale < step) scale = Half.BitIncrement(scale);
        return (min, scale);
    }

    /// <summary>The code of <paramref name="x"/>: round((x − min) / scale) to nearest-even, clamped to [0, maxCode].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Code(float x, float min, float scale, int maxCode)
    {
        if (scale == 0) return 0; // a constant group: min is the value
        float t = MathF.Round((x - min) / scale);
        return t <= 0 ? 0 : t >= maxCode ? maxCode : (int)t;
    }

    /// <summary>Code of element <paramref name="element"/> in a packed row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Get(ReadOnlySpan<byte> packed, int element, int bits)
    {
        int bit = element * bits;
        return (packed[bit >> 3] >> (bit & 7)) & ((1 << bits) - 1);
    }

    /// <summary>
    /// destination_c = mins_c + scales_c·code_c for a packed row: the product rounded, then the sum (as the scalar
    /// expression, which .NET never contracts to a fused multiply-add), so the vector and scalar paths agree bit for
    /// bit, eight channels at a time.
    /// </summary>
    public static unsafe void Dequantize(ReadOnlySpan<byte> packed, int bits, ReadOnlySpan<float> mins, ReadOnlySpan<float> scales, Span<float> destination)
    {
        int width = destination.Length, c = 0;
        if (Avx2.IsSupported && bits is 2 or 4)
            fixed (byte* p = packed)
            fixed (float* m = mins, s = scales, d = destination)
                for (; c + 8 <= width; c += 8)
                    Avx.Store(d + c, Avx.Add(Avx.LoadVector256(m + c), Avx.Multiply(Avx.LoadVector256(s + c), Codes8(p, c, bits))));
        for (; c < width; c++) destination[c] = mins[c] + scales[c] * Get(packed, c, bits);
    }

    /// <summary>
    /// destination_c = min + scale·code_c for channels [<paramref name="first"/>, first + destination.Length) of a
    /// packed row sharing one min and scale (a value group), with the same rounding as
    /// <see cref="Dequantize(ReadOnlySpan{byte}, int, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>.
    /// </summary>
    public static unsafe void Dequantize(ReadOnlySpan<byte> packed, int bits, int first, float min, float scale, Span<float> destination)
    {
        int c = 0;
        if (Avx2.IsSupported && bits is 2 or 4 && first % 8 == 0)
        {
            var m = Vector256.Create(min);
            var s = Vector256.Create(scale);
            fixed (byte* p = packed)
            fixed (float* d = destination)
                for (; c + 8 <= destination.Length; c += 8)
                    Avx.Store(d + c, Avx.Add(m, Avx.Multiply(s, Codes8(p, first + c, bits))));
        }
        for (; c < destination.Length; c++) destination[c] = min + scale * Get(packed, first + c, bits);
    }

    /// <summary>
    /// The codes of channels [c, c + 8) (c a multiple of 8) as floats: one 16-bit (2 bits) or 32-bit (4 bits)
    /// little-endian word, spread to lanes by variable shifts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Codes8(byte* packed, int c, int bits)
    {
        var shifts = bits == 2 ? Vector256.Create(0u, 2, 4, 6, 8, 10, 12, 14) : Vector256.Create(0u, 4, 8, 12, 16, 20, 24, 28);
        uint word = bits == 2 ? Unsafe.ReadUnaligned<ushort>(packed + c / 4) : Unsafe.ReadUnaligned<uint>(packed + c / 2);
        return Avx.ConvertToVector256Single(Avx2.And(Avx2.ShiftRightLogicalVariable(Vector256.Create(word), shifts), Vector256.Create((uint)((1 << bits) - 1))).AsInt32());
    }

    /// <summary>
    /// Packs the codes of <paramref name="x"/> (elements [first, first + x.Length) of a packed row whose bits for
    /// them are still zero), element c against its own min and scale (<paramref name="mins"/>[c],
    /// <paramref name="scales"/>[c]): exactly <see cref="Code"/> and <see cref="Set"/> per element, eight at a time —
    /// the same subtraction, division, round-to-nearest-even and clamp (a zero scale gives code 0, NaN gives 0 as the
    /// saturating conversion does), then the eight codes' bits written as one word.
    /// </summary>
    public static unsafe void QuantizeRow(ReadOnlySpan<float> x, ReadOnlySpan<float> mins, ReadOnlySpan<float> scales, int bits, int maxCode,
        Span<byte> packed, int first)
    {
        int c = 0;
        if (Avx2.IsSupported && bits is 2 or 4 && first % 8 == 0)
        {
            var shifts = bits == 2 ? Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14) : Vector256.Create(0, 4, 8, 12, 16, 20, 24, 28);
            var top = Vector256.Create((float)maxCode);
            fixed (float* px = x, pm = mins, ps = scales)
            fixed (byte* pp = packed)
                for (; c + 8 <= x.Length; c += 8)
                {
                    Vector256<float> scale = Avx.LoadVector256(ps + c);
                    Vector256<float> t = Avx.RoundToNearestInteger(Avx.Divide(Avx.Subtract(Avx.LoadVector256(px + c), Avx.LoadVector256(pm + c)), scale));
                    t = Avx.Min(Avx.Max(t, Vector256<float>.Zero), top); // vmaxps gives its second operand (0) for NaN
                    t = Avx.AndNot(Avx.CompareEqual(scale, Vector256<float>.Zero), t);
                    Vector256<int> word = Avx2.ShiftLeftLogicalVariable(Avx.ConvertToVector256Int32WithTruncation(t), shifts.AsUInt32());
                    // the codes' bits do not overlap: the sum is their bitwise or
                    Vector128<int> half = Sse2.Add(word.GetLower(), word.GetUpper());
                    half = Sse2.Add(half, Sse2.Shuffle(half, 0b01_00_11_10));
                    uint bitsOf8 = (uint)Sse2.Add(half, Sse2.Shuffle(half, 0b10_11_00_01)).ToScalar();
                    int at = (first + c) * bits / 8;
                    if (bits == 2) Unsafe.WriteUnaligned(pp + at, (ushort)bitsOf8);
                    else Unsafe.WriteUnaligned(pp + at, bitsOf8);
                }
        }
        for (; c < x.Length; c++) Set(packed, first + c, bits, Code(x[c], mins[c], scales[c], maxCode));
    }

    /// <summary>Writes a code into a packed row whose bits for that element are still zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(Span<byte> packed, int element, int bits, int code)
    {
        int bit = element * bits;
        packed[bit >> 3] |= (byte)(code << (bit & 7));
    }

    /// <summary>FNV-1a 64 over <paramref name="bytes"/>, continuing from <paramref name="hash"/>.</summary>
    public static ulong Hash(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) hash = (hash ^ b) * 0x100000001B3UL;
        return hash;
    }

    /// <summary>FNV-1a 64 offset basis.</summary>
    public const ulong HashSeed = 0xCBF29CE484222325UL;
}
