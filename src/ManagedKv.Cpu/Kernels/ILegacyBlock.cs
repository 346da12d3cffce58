using System.Runtime.Intrinsics;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// A 32-value block format (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1) as the generic kernels in <see cref="LegacyTiles"/>
/// see it: 32 unsigned codes in value order (the stored code plus <see cref="Bias"/>), an f16 scale and, for
/// the offset formats, an f16 minimum. Implemented by structs so the JIT specialises and inlines each format.
/// </summary>
internal unsafe interface ILegacyBlock
{
    /// <summary>The stored weight type (the kernel's <see cref="MatMulKernel.WeightType"/>).</summary>
    static abstract GgmlType Type { get; }

    /// <summary>Bytes per block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Offset added to make codes unsigned (value = code − Bias).</summary>
    static abstract int Bias { get; }

    /// <summary>True for the offset formats x = d·q + m (paired with Q8_1 activations).</summary>
    static abstract bool HasMin { get; }

    /// <summary>True when codes use all 8 bits (Q8_0), so the AVX2 path needs ggml's sign trick.</summary>
    static abstract bool Wide { get; }

    /// <summary>The block's 32 unsigned codes in value order.</summary>
    static abstract Vector256<byte> Codes(byte* block);

    /// <summary>The scale d.</summary>
    static abstract float Scale(byte* block);

    /// <summary>The minimum m (0 for formats without one).</summary>
    static abstract float Min(byte* block);
}
