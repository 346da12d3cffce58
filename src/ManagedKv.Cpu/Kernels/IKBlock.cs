using System.Runtime.Intrinsics;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// A 256-value K-quant super-block as the generic kernels in <see cref="KQuantTiles"/> see it: unsigned codes
/// in value order (stored code + <see cref="Bias"/>), integer sub-block scales, optional mins. Implemented by
/// structs so the JIT specialises and inlines each format.
/// </summary>
internal unsafe interface IKBlock
{
    /// <summary>Bytes per super-block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Offset added to make codes unsigned (value = code − Bias).</summary>
    static abstract int Bias { get; }

    /// <summary>How the minimum term is accumulated.</summary>
    static abstract KMins Mins { get; }

    /// <summary>True for 16-value sub-blocks (two scales per 32 values), false for 32-value ones.</summary>
    static abstract bool SixteenScales { get; }

    /// <summary>Decodes the super-block's factors, scales and mins.</summary>
    static abstract void Prepare(byte* block, KRow* row);

    /// <summary>Codes of values 32·chunk .. 32·chunk+31 plus the bias (AVX2 path).</summary>
    static abstract Vector256<byte> Codes(byte* block, int chunk);

    /// <summary>Codes of values 64·pair .. 64·pair+63 plus the bias (AVX-512 path).</summary>
    static abstract Vector512<byte> Codes64(byte* block, int pair);
}
