using ManagedKv.Gguf;

namespace ManagedKv.Model.Numerics;

/// <summary>
/// The dot products of ggml-cpu's CPU_REPACK kernels for x86 (arch/x86/repack.cpp), which llama.cpp uses for
/// Q4_0 and Q4_K matrices (AVX2) and Q2_K matrices (AVX-512) whose row count is a multiple of 8, in place of
/// <see cref="X86QuantDot"/>. Rows are interleaved eight at a time, but each output still comes from one
/// weight row: the integer dot of every block is exact and the float accumulation is a single sequential
/// chain per output, <c>acc = fma((float)isum, dw·da, acc)</c>; the K-quants keep a second chain for the mins
/// and return <c>acc − accMin</c>. The gemv (one activation row) and gemm (four rows) kernels agree for
/// Q4_0; for the K-quants the gemm adds to the float chains once per inner-loop step (64 values for Q4_K,
/// 128 for Q2_K) instead of once per 256-value super-block.
/// </summary>
public static class RepackDot
{
    /// <summary>ggml_gemv/gemm_q4_0_8x8_q8_0: per 32-block acc = fma(Σ(q − 8)·q8, dw·da, acc).</summary>
    public static float Q4_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int nb = X86QuantDot.CheckBlocks(w, a, Gguf.Q4_0.BlockBytes, Gguf.Q8_0.BlockBytes);
        Span<int> qx = stackalloc int[32];
        float acc = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ReadOnlySpan<byte> bx = w.Slice(ib * Gguf.Q4_0.BlockBytes, Gguf.Q4_0.BlockBytes);
            ReadOnlySpan<byte> by = a.Slice(ib * Gguf.Q8_0.BlockBytes, Gguf.Q8_0.BlockBytes);
            X86QuantDot.Codes32(GgmlType.Q4_0, bx, qx);
            int s = 0;
            for (int k = 0; k < 32; k++) s += qx[k] * (sbyte)by[Gguf.Q8_0.OffsetQs + k];
            acc = MathF.FusedMultiplyAdd(s, Fp16.Read(bx, Gguf.Q4_0.OffsetD) * Fp16.Read(by, Gguf.Q8_0.OffsetD), acc);
        }
        return acc;
    }

    /// <summary>
    /// ggml_gemv_q4_K_8x8_q8_K: per super-block isum = Σ scale_j·Σ q·q8 and imin = Σ min_j·bsum32_j, then
    /// acc = fma(isum, dw·da, acc), accMin = fma(imin, dmin·da, accMin); result acc − accMin. With
    /// <paramref name="gemm"/>, ggml_gemm_q4_K_8x8_q8_K: the same, but isum and imin cover two sub-blocks (64
    /// values) and the two chains take four steps per super-block.
    /// </summary>
    public static float Q4K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, bool gemm)
    {
        int nb = X86QuantDot.CheckBlocks(w, a, Gguf.Q4K.BlockBytes, Q8K.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[256];
        Span<byte> sc = stackalloc byte[8];
        Span<byte> mn = stackalloc byte[8];
        float acc = 0, accMin = 0;
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> bx = w.Slice(i * Gguf.Q4K.BlockBytes, Gguf.Q4K.BlockBytes);
            ReadOnlySpan<byte> by = a.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            KScales.Unpack6(bx.Slice(Gguf.Q4K.OffsetScales, 12), sc, mn);
            Gguf.Q4K.Unpack(bx, q);
            float da = Q8K.ReadD(by);
            float scale = Fp16.Read(bx, Gguf.Q4K.OffsetD) * da, scaleMin = Fp16.Read(bx, Gguf.Q4K.OffsetDmin) * da;
            int span = gemm ? 64 : 256; // values per float step
            for (int start = 0; start < 256; start += span)
            {
                int isum = 0, imin = 0;
                for (int e = start; e < start + span; e++) isum += sc[e >> 5] * q[e] * (sbyte)by[Q8K.OffsetQs + e];
                for (int j = start >> 5; j < (start + span) >> 5; j++) imin += mn[j] * X86QuantDot.Bsum32(by, j);
                acc = MathF.FusedMultiplyAdd(isum, scale, acc);
                accMin = MathF.FusedMultiplyAdd(imin, scaleMin, accMin);
            }
        }
        return acc - accMin;
    }

    /// <summary>
    /// ggml_gemv/gemm_q2_K_8x8_q8_K (AVX-512 builds): as <see cref="Q4K"/> with sixteen 16-element groups, 4-bit
    /// scales (low nibble) and mins (high nibble) against the 16-element bsums; the gemm steps every 128 values.
    /// </summary>
    public static float Q2K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, bool gemm)
    {
        int nb = X86QuantDot.CheckBlocks(w, a, Gguf.Q2K.BlockBytes, Q8K.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[256];
        float acc = 0, accMin = 0;
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> bx = w.Slice(i * Gguf.Q2K.BlockBytes, Gguf.Q2K.BlockBytes);
            ReadOnlySpan<byte> by = a.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            ReadOnlySpan<byte> sc = bx.Slice(Gguf.Q2K.OffsetScales, 16);
            Gguf.Q2K.Unpack(bx, q);
            float da = Q8K.ReadD(by);
            float scale = Fp16.Read(bx, Gguf.Q2K.OffsetD) * da, scaleMin = Fp16.Read(bx, Gguf.Q2K.OffsetDmin) * da;
            int span = gemm ? 128 : 256; // values per float step
            for (int start = 0; start < 256; start += span)
            {
                int isum = 0, imin = 0;
                for (int e = start; e < start + span; e++) isum += (sc[e >> 4] & 0xF) * q[e] * (sbyte)by[Q8K.OffsetQs + e];
                for (int j = start >> 4; j < (start + span) >> 4; j++) imin += (sc[j] >> 4) * Q8K.ReadBsum(by, j);
                acc = MathF.FusedMultiplyAdd(isum, scale, acc);
                accMin = MathF.FusedMultiplyAdd(imin, scaleMin, accMin);
            }
        }
        return acc - accMin;
    }
}
