using System.Runtime.InteropServices;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Numerics;

/// <summary>
/// How llama.cpp's CPU backend (the golden build: x86-64 with AVX-512, LLAMAFILE and CPU_REPACK on) computes
/// one element of <c>ggml_mul_mat(W, X)</c>, and the emulation of that computation. The path depends on the
/// weight type, the shape and the number of activation rows in the batch (ggml-cpu.c
/// <c>ggml_compute_forward_mul_mat</c>, llamafile/sgemm.cpp <c>llamafile_sgemm</c>, repack.cpp
/// <c>ggml_repack_get_optimal_repack_type</c>):
/// <list type="bullet">
/// <item>Q4_0 and Q4_K weights with a multiple of 8 rows (AVX2), and Q2_K (AVX-512), are repacked at load
/// time and always use the repack kernels (<see cref="RepackDot"/>): gemm for the activation rows in whole
/// groups of four when the batch has more than three rows, gemv for the others.</item>
/// <item>Otherwise, with at least two activation rows, llamafile's tinyBLAS runs if it supports the type
/// and shape: F32 and F16 with k % 16 = 0, BF16 with k % 32 = 0, each with m % 4 = 0; Q8_0, Q4_0 and Q5_0
/// always. tinyBLAS_Q0_AVX accumulates exactly like the x86 vec_dot, so only the float types differ.</item>
/// <item>Everything else uses the type's vec_dot (<see cref="F32Dot.VecDot"/>, <see cref="HalfDot"/>,
/// <see cref="X86QuantDot"/>).</item>
/// </list>
/// The activation row must already be in the weight type's vec_dot type (<see cref="QuantDot.VecDotType"/>).
/// </summary>
public static class CpuMatMul
{
    /// <summary>
    /// The kernel llama.cpp uses for activation row <paramref name="row"/> when it multiplies a
    /// [<paramref name="outFeatures"/>, <paramref name="inFeatures"/>] weight of <paramref name="weightType"/>
    /// by a batch of <paramref name="batchRows"/> activation rows.
    /// </summary>
    public static MatMulKernel Select(GgmlType weightType, int inFeatures, int outFeatures, int batchRows, int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, batchRows);
        if (IsRepacked(weightType, outFeatures))
            return batchRows > 3 && row < batchRows - batchRows % 4 ? MatMulKernel.RepackGemm : MatMulKernel.RepackGemv;
        if (batchRows < 2) return MatMulKernel.VecDot;
        bool tiny = weightType switch
        {
            GgmlType.F32 or GgmlType.F16 => inFeatures % 16 == 0 && outFeatures % 4 == 0,
            GgmlType.BF16 => inFeatures % 32 == 0 && outFeatures % 4 == 0,
            GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 => true,
            _ => false,
        };
        return tiny ? MatMulKernel.TinyBlas : MatMulKernel.VecDot;
    }

    /// <summary>True when llama.cpp's CPU_REPACK buffer takes a matrix of this type and row count on the golden CPU.</summary>
    public static bool IsRepacked(GgmlType weightType, int outFeatures) =>
        weightType is GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q2_K && outFeatures % 8 == 0;

    /// <summary>
    /// One output element: the dot product of a weight row with an activation row (in the vec_dot type) as
    /// <paramref name="kernel"/> computes it.
    /// </summary>
    /// <exception cref="NotSupportedException">The weight type has no emulated kernel on that path.</exception>
    public static float Dot(MatMulKernel kernel, GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activation)
    {
        switch (weightType)
        {
            case GgmlType.F32:
                return kernel == MatMulKernel.TinyBlas
                    ? F32Dot.TinyBlas(MemoryMarshal.Cast<byte, float>(weightRow), MemoryMarshal.Cast<byte, float>(activation))
                    : F32Dot.VecDot(MemoryMarshal.Cast<byte, float>(weightRow), MemoryMarshal.Cast<byte, float>(activation));
            case GgmlType.F16:
                return kernel == MatMulKernel.TinyBlas
                    ? HalfDot.TinyBlasF16(MemoryMarshal.Cast<byte, ushort>(weightRow), MemoryMarshal.Cast<byte, ushort>(activation))
                    : HalfDot.VecDotF16(MemoryMarshal.Cast<byte, ushort>(weightRow), MemoryMarshal.Cast<byte, ushort>(activation));
            case GgmlType.BF16:
                return kernel == MatMulKernel.TinyBlas
                    ? HalfDot.TinyBlasBf16(MemoryMarshal.Cast<byte, ushort>(weightRow), MemoryMarshal.Cast<byte, ushort>(activation))
                    : HalfDot.VecDotBf16(MemoryMarshal.Cast<byte, ushort>(weightRow), MemoryMarshal.Cast<byte, ushort>(activation));
        }
        if (kernel is MatMulKernel.RepackGemv or MatMulKernel.RepackGemm)
        {
            return weightType switch
            {
                GgmlType.Q4_0 => RepackDot.Q4_0(weightRow, activation),
                GgmlType.Q4_K => RepackDot.Q4K(weightRow, activation, kernel == MatMulKernel.RepackGemm),
                GgmlType.Q2_K => RepackDot.Q2K(weightRow, activation, kernel == MatMulKernel.RepackGemm),
                _ => throw new NotSupportedException($"no repack kernel for {weightType}"),
            };
        }
        return weightType switch
        {
            GgmlType.Q8_0 => X86QuantDot.Q8_0(weightRow, activation),
            GgmlType.Q4_0 => X86QuantDot.Q4_0(weightRow, activation),
            GgmlType.Q5_0 => X86QuantDot.Q5_0(weightRow, activation),
            GgmlType.Q4_1 => X86QuantDot.Q4_1(weightRow, activation),
            GgmlType.Q5_1 => X86QuantDot.Q5_1(weightRow, activation),
            GgmlType.Q2_K => X86QuantDot.Q2K(weightRow, activation),
            GgmlType.Q3_K => X86QuantDot.Q3K(weightRow, activation),
            GgmlType.Q4_K => X86QuantDot.Q4K(weightRow, activation),
            GgmlType.Q5_K => X86QuantDot.Q5K(weightRow, activation),
            GgmlType.Q6_K => X86QuantDot.Q6K(weightRow, activation),
            _ => throw new NotSupportedException($"no x86 dot product emulated for {weightType}"),
        };
    }
}
