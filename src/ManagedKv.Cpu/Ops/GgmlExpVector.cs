using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Model.Numerics;

namespace ManagedKv.Cpu.Ops;

/// <summary>
/// ggml's vectorised exponential (<see cref="GgmlExp.ExpF"/>, the AVX-512 <c>ggml_v_expf</c> of the golden build)
/// eight lanes at a time with AVX2 + FMA: the same range reduction, the same FMA tree for the polynomial, and
/// the final scaling by 2^n as one multiply — exact whenever 2^n is a normal float (|n| ≤ 126), which is where
/// <c>vscalefps</c> and a multiply round identically. Vectors with a lane outside that range (inputs beyond
/// about ±87, NaN) go lane by lane through <see cref="GgmlExp.ExpF"/>, so every lane equals the reference.
/// Softmax and SwiGLU use it: llama.cpp's results depend on this exp's last bits, and an activation quantised
/// right after them flips codes when they differ.
/// </summary>
internal static unsafe class GgmlExpVector
{
    private static readonly Vector256<float> Shift = Vector256.Create(BitConverter.Int32BitsToSingle(0x4b400000));
    private static readonly Vector256<float> Log2E = Vector256.Create(BitConverter.Int32BitsToSingle(0x3fb8aa3b));
    private static readonly Vector256<float> Ln2Hi = Vector256.Create(BitConverter.Int32BitsToSingle(0x3f317200));
    private static readonly Vector256<float> Ln2Lo = Vector256.Create(BitConverter.Int32BitsToSingle(0x35bfbe8e));
    private static readonly Vector256<float> C5 = Vector256.Create(BitConverter.Int32BitsToSingle(0x3c072010));
    private static readonly Vector256<float> C4 = Vector256.Create(BitConverter.Int32BitsToSingle(0x3d2b9f17));
    private static readonly Vector256<float> C3 = Vector256.Create(BitConverter.Int32BitsToSingle(0x3e2aaf33));
    private static readonly Vector256<float> C2 = Vector256.Create(BitConverter.Int32BitsToSingle(0x3efffedb));
    private static readonly Vector256<float> C1 = Vector256.Create(BitConverter.Int32BitsToSingle(0x3f7ffff6));

    /// <summary>True when the vector path runs (AVX2 + FMA); callers otherwise use <see cref="GgmlExp"/> per element.</summary>
    public static bool IsSupported => Simd.Supported;

    /// <summary>Lane-wise <see cref="GgmlExp.ExpF"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> n = Avx.Subtract(Fma.MultiplyAdd(x, Log2E, Shift), Shift);
        Vector256<float> b = Fma.MultiplyAddNegated(n, Ln2Lo, Fma.MultiplyAddNegated(n, Ln2Hi, x));
        Vector256<float> u = Avx.Multiply(b, b);
        Vector256<float> j = Fma.MultiplyAdd(
            Fma.MultiplyAdd(Fma.MultiplyAdd(C5, b, C4), u, Fma.MultiplyAdd(C3, b, C2)),
            u,
            Fma.MultiplyAdd(C1, b, Vector256.Create(1.0f)));
        Vector256<float> inRange = Avx.And(
            Avx.CompareGreaterThanOrEqual(n, Vector256.Create(-126.0f)),
            Avx.CompareLessThanOrEqual(n, Vector256.Create(126.0f)));
        if (Avx.MoveMask(inRange) != 0xFF) return Lanes(x);
        Vector256<int> pow2 = Avx2.ShiftLeftLogical(Avx2.Add(Avx.ConvertToVector256Int32WithTruncation(n), Vector256.Create(127)), 23);
        return Avx.Multiply(j, pow2.AsSingle());
    }

    /// <summary>Lane-wise silu(x) = x / (1 + exp(0 − x)) as <see cref="GgmlExp.Silu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Silu(Vector256<float> x) =>
        Avx.Divide(x, Avx.Add(Vector256.Create(1.0f), Exp(Avx.Subtract(Vector256<float>.Zero, x))));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> Lanes(Vector256<float> x)
    {
        float* v = stackalloc float[8];
        x.Store(v);
        for (int i = 0; i < 8; i++) v[i] = GgmlExp.ExpF(v[i]);
        return Avx.LoadVector256(v);
    }
}
