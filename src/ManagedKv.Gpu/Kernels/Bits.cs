using ILGPU;
using ILGPU.Runtime.Cuda;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Bit-level conversions usable inside kernels (ILGPU cannot compile <see cref="System.Half"/>): IEEE half and
/// bfloat16 to and from f32 with round-to-nearest-even, little-endian reads from byte views, and ggml's
/// round-to-nearest-even integer trick.
/// </summary>
internal static class Bits
{
    /// <summary>IEEE binary16 bits to f32 (exact; subnormals, infinities and NaN included).</summary>
    public static float HalfToFloat(uint h)
    {
        uint sign = (h & 0x8000u) << 16;
        uint exp = (h >> 10) & 0x1Fu;
        uint mant = h & 0x3FFu;
        if (exp == 0)
        {
            float f = mant * 5.9604644775390625e-8f; // mant · 2^-24, exact
            return sign != 0 ? -f : f;
        }
        if (exp == 31) return Interop.IntAsFloat(sign | 0x7F800000u | (mant << 13));
        return Interop.IntAsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
    }

    /// <summary>f32 to IEEE binary16 bits, round to nearest even (as F16C with imm8 = 0 and System.Half).</summary>
    public static uint FloatToHalf(float value)
    {
        uint x = Interop.FloatAsInt(value);
        uint sign = (x >> 16) & 0x8000u;
        uint abs = x & 0x7FFFFFFFu;
        if (abs > 0x7F800000u) return sign | 0x7E00u | ((abs >> 13) & 0x3FFu); // NaN, payload kept as F16C does
        if (abs >= 0x477FF000u) return sign | 0x7C00u;                          // 65520 and above round to infinity
        if (abs < 0x38800000u)
        {
            // Below the smallest normal half: the code is round(|x|·2^24); the scaling is exact, the magic add rounds to even.
            float scaled = Interop.IntAsFloat(abs) * 16777216f;
            return sign | (uint)NearestInt(scaled);
        }
        uint r = abs - 0x38000000u;          // rebias the exponent from 127 to 15
        r += 0xFFFu + ((r >> 13) & 1u);      // round the 13 dropped bits to nearest even (a carry may bump the exponent)
        return sign | (r >> 13);
    }

    /// <summary>f32 rounded to the nearest half and back.</summary>
    public static float RoundToHalf(float value) => HalfToFloat(FloatToHalf(value));

    /// <summary>bfloat16 bits to f32.</summary>
    public static float BFloatToFloat(uint b) => Interop.IntAsFloat(b << 16);

    /// <summary>f32 rounded to the nearest bfloat16 and back (ggml_compute_fp32_to_bf16: NaN kept quiet).</summary>
    public static float RoundToBFloat(float value)
    {
        uint u = Interop.FloatAsInt(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return Interop.IntAsFloat(((u >> 16) | 64u) << 16);
        return Interop.IntAsFloat(((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16) << 16);
    }

    /// <summary>
    /// a·b rounded to f32 before any later use. The CUDA compiler may fuse a plain product into the addition that
    /// follows (an FMA skips the product's rounding), which moves ties in round-to-nearest quantisers such as
    /// <see cref="NearestInt"/>(x·id); ggml rounds the product first, so on CUDA the product is emitted as
    /// <c>mul.rn.f32</c>, which PTX never contracts.
    /// </summary>
    public static float MulRounded(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float product, a, b);
            return product;
        }
        return a * b;
    }

    /// <summary>ggml's nearest_int: round to nearest even through the 1.5·2^23 trick (valid for |v| &lt; 2^22).</summary>
    public static int NearestInt(float value) => (int)(Interop.FloatAsInt(value + 12582912f) & 0x007FFFFFu) - 0x00400000;

    /// <summary>Unsigned 16-bit little-endian value at <paramref name="offset"/>.</summary>
    public static uint U16(ArrayView<byte> b, long offset) => b[offset] | ((uint)b[offset + 1] << 8);

    /// <summary>Unsigned 32-bit little-endian value at <paramref name="offset"/>.</summary>
    public static uint U32(ArrayView<byte> b, long offset) =>
        b[offset] | ((uint)b[offset + 1] << 8) | ((uint)b[offset + 2] << 16) | ((uint)b[offset + 3] << 24);

    /// <summary>f16 value stored at <paramref name="offset"/>.</summary>
    public static float F16(ArrayView<byte> b, long offset) => HalfToFloat(U16(b, offset));

    /// <summary>Signed byte at <paramref name="offset"/>.</summary>
    public static int S8(ArrayView<byte> b, long offset) => (sbyte)b[offset];
}
