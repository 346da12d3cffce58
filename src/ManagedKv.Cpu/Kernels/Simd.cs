using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Small SIMD building blocks shared by the kernels: ggml's horizontal sums (same association order as
/// <c>hsum_float_8</c>), the integer lane dot product of unsigned codes with signed activation codes, and the
/// half-precision table.
/// </summary>
internal static unsafe class Simd
{
    /// <summary>True when the integer kernels can run (AVX2 + FMA); otherwise the portable path is used.</summary>
    public static readonly bool Supported = Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Whether the kernels take their AVX-512 paths (512-bit K-quant pairs, 16-lane float accumulators). The
    /// 256-bit paths compute the same integers and the same f32 operations, so results do not depend on it;
    /// tests switch it off to check exactly that on AVX-512 machines.
    /// </summary>
    internal static bool UseAvx512 = Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>f16 bits → f32, exact (ggml's <c>ggml_table_f32_f16</c>).</summary>
    public static readonly float[] HalfTable = BuildHalfTable();

    private static float[] BuildHalfTable()
    {
        var table = new float[65536];
        for (int i = 0; i < table.Length; i++) table[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return table;
    }

    /// <summary>Reads the f16 at <paramref name="p"/> as f32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(byte* p) => HalfTable[*(ushort*)p];

    /// <summary>
    /// ggml's <c>hsum_float_8</c>: (hi + lo) as four lanes, then lanes (0+2, 1+3), then lane 0 + lane 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum8(Vector256<float> x)
    {
        Vector128<float> r = Sse.Add(x.GetUpper(), x.GetLower());
        r = Sse.Add(r, Sse.MoveHighToLow(r, r));
        r = Sse.AddScalar(r, Sse3.MoveHighAndDuplicate(r));
        return r.ToScalar();
    }

    /// <summary>The tail of ggml's q4_K dot: lanes (0+2, 1+3), then lane 0 + lane 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum4(Vector128<float> r)
    {
        r = Sse.Add(r, Sse.MoveHighToLow(r, r));
        r = Sse.AddScalar(r, Sse3.MoveHighAndDuplicate(r));
        return r.ToScalar();
    }

    /// <summary>
    /// Per 32-bit lane i: <paramref name="corr"/>[i] + Σ_{j=4i..4i+3} u[j]·a[j], exactly (no saturation) for
    /// codes u ≤ 127. VNNI: one <c>vpdpbusd</c>; AVX2: <c>pmaddubsw</c> + <c>pmaddwd</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> corr, Vector256<byte> u, Vector256<sbyte> a)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(corr, u, a);
        return Avx2.Add(corr, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Vector256<short>.One));
    }

    /// <summary>
    /// As <see cref="Dot"/> for codes that use the full byte range (Q8_0 weights stored as w + 128). VNNI
    /// multiplies the unsigned codes and lets <paramref name="corr"/> (= −128·lane sums of a) remove the offset;
    /// AVX2 would saturate, so it uses ggml's sign trick on the signed weights instead and ignores corr. Both
    /// give the exact lane sums Σ w·a.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotWide(Vector256<int> corr, Vector256<byte> u, Vector256<sbyte> a)
    {
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(corr, u, a);
        Vector256<sbyte> w = Avx2.Xor(u, Vector256.Create((byte)0x80)).AsSByte();
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w)), Vector256<short>.One);
    }

    /// <summary>The AVX2 formula of <see cref="Dot"/>, callable on VNNI machines for tests.</summary>
    public static Vector256<int> DotAvx2(Vector256<int> corr, Vector256<byte> u, Vector256<sbyte> a) =>
        Avx2.Add(corr, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Vector256<short>.One));

    /// <summary>The AVX2 formula of <see cref="DotWide"/>, callable on VNNI machines for tests.</summary>
    public static Vector256<int> DotWideAvx2(Vector256<byte> u, Vector256<sbyte> a)
    {
        Vector256<sbyte> w = Avx2.Xor(u, Vector256.Create((byte)0x80)).AsSByte();
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w)), Vector256<short>.One);
    }

    /// <summary>Eight f16 values at <paramref name="p"/> widened to f32 exactly (subnormals, ±∞ and NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadHalf8(ushort* p)
    {
        Vector256<int> h = Avx2.ConvertToVector256Int32(p);
        Vector256<int> em = Avx2.And(h, Vector256.Create(0x7FFF));
        Vector256<int> shifted = Avx2.ShiftLeftLogical(em, 13);
        // A half's exponent bias is 15, a single's 127: multiplying by 2^112 rebiases normals and renormalises
        // subnormals exactly; ±∞/NaN (exponent 31) get the all-ones single exponent instead.
        Vector256<float> value = Avx.Multiply(shifted.AsSingle(), Vector256.Create(0x77800000).AsSingle());
        Vector256<int> special = Avx2.CompareGreaterThan(em, Vector256.Create(0x7BFF));
        Vector256<float> infNan = Avx2.Or(shifted, Vector256.Create(0x7F800000)).AsSingle();
        value = Avx.BlendVariable(value, infNan, special.AsSingle());
        return Avx.Or(value, Avx2.ShiftLeftLogical(Avx2.And(h, Vector256.Create(0x8000)), 16).AsSingle());
    }

    /// <summary>Sixteen f16 values at <paramref name="p"/> widened to f32 exactly (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadHalf16(ushort* p)
    {
        Vector512<int> h = Avx512F.ConvertToVector512Int32(Avx.LoadVector256(p));
        Vector512<int> em = Avx512F.And(h, Vector512.Create(0x7FFF));
        Vector512<int> shifted = Avx512F.ShiftLeftLogical(em, 13);
        Vector512<float> value = Avx512F.Multiply(shifted.AsSingle(), Vector512.Create(0x77800000).AsSingle());
        Vector512<float> infNan = Avx512F.Or(shifted, Vector512.Create(0x7F800000)).AsSingle();
        value = Vector512.ConditionalSelect(Vector512.GreaterThan(em, Vector512.Create(0x7BFF)).AsSingle(), infNan, value);
        return Avx512F.Or(value.AsInt32(), Avx512F.ShiftLeftLogical(Avx512F.And(h, Vector512.Create(0x8000)), 16)).AsSingle();
    }

    /// <summary>Eight bf16 values at <paramref name="p"/> widened to f32 (a 16-bit shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBf16x8(ushort* p) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(p), 16).AsSingle();
}
