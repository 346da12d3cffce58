namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// How a K-quant's integer sums become f32, following the kernel llama.cpp runs for the type on x86
/// (the reference's <c>CpuMatMul.Select</c>); each rounds differently, and a flipped activation code downstream
/// turns a last-bit difference into a visible one.
/// </summary>
internal enum KFloat
{
    /// <summary>
    /// Repacked GEMV (Q2_K): the super-block's integer total converted once and FMA'd into one accumulator per
    /// output.
    /// </summary>
    Total,

    /// <summary>
    /// Repacked Q4_K: GEMM (4-token tiles) takes a float step every 64 values, GEMV (single tokens) one per
    /// super-block. Needs <see cref="IKBlock.Interleaved"/> codes.
    /// </summary>
    Spans64,

    /// <summary>
    /// ggml_vec_dot_q*_K_q8_K (AVX2; Q3_K, Q5_K, Q6_K): eight f32 accumulators per output, lane i FMA'ing the
    /// integer sum of bytes 4i..4i+3 of every 32-value chunk, reduced by hsum_float_8 at the end.
    /// </summary>
    Lanes,
}
