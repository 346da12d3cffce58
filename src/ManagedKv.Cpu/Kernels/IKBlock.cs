using System.Runtime.Intrinsics;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// A 256-value K-quant super-block as the generic kernels in <see cref="KQuantTiles"/> see it: unsigned codes
/// in value order (stored code + <see cref="Bias"/>), integer sub-block scales, optional mins. Implemented by
/// structs so the JIT specialises and inlines each format.
/// </summary>
internal unsafe interface IKBlock
{
    /// <summary>The stored weight type (the kernel's <see cref="MatMulKernel.WeightType"/>).</summary>
    static abstract GgmlType Type { get; }

    /// <summary>Bytes per super-block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Offset added to make codes unsigned (value = code − Bias).</summary>
    static abstract int Bias { get; }

    /// <summary>How the integer sums are converted and accumulated in f32.</summary>
    static abstract KFloat Float { get; }

    /// <summary>
    /// True when the bias correction is ggml's per-sub-block one, Bias·(scale·bsum) of 16-value sub-blocks 2i and
    /// 2i+1 subtracted from lane i (Q6_K), rather than Bias·(pair sums) per code pair (the activation's
    /// <see cref="Activations.ActivationBuffer.BiasPairs"/>). Only matters for <see cref="KFloat.Lanes"/>.
    /// </summary>
    static abstract bool SubBlockBias { get; }

    /// <summary>How the minimum term is accumulated.</summary>
    static abstract KMins Mins { get; }

    /// <summary>True for 16-value sub-blocks (two scales per 32 values), false for 32-value ones.</summary>
    static abstract bool SixteenScales { get; }

    /// <summary>Decodes the super-block's factors, scales and mins.</summary>
    static abstract void Prepare(byte* block, KRow* row);

    /// <summary>Codes of values 32·chunk .. 32·chunk+31 plus the bias (AVX2 path).</summary>
    static abstract Vector256<byte> Codes(byte* block, int chunk);

    /// <summary>
    /// True when the natural 512-bit loads give chunks (4h, 4h+2) and (4h+1, 4h+3) of a 128-value half
    /// (Q4_K/Q5_K, whose low and high nibbles hold chunks 2j and 2j+1); false for chunks (4h, 4h+1) and
    /// (4h+2, 4h+3). The activations are arranged to match.
    /// </summary>
    static abstract bool Interleaved { get; }

    /// <summary>Codes plus the bias of half <paramref name="half"/> (128 values) as two 512-bit vectors of two chunks each (AVX-512 path).</summary>
    static abstract void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b);
}
