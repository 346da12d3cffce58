using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q4_1: 32 4-bit codes, x = d·q + m. Paired with Q8_1 activations (ggml_vec_dot_q4_1_q8_1). The block as <see cref="LegacyTiles"/> reads it.</summary>
internal unsafe struct Q4_1Block : ILegacyBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q4_1;

    /// <inheritdoc/>
    public static int BlockBytes => Q4_1.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 0;

    /// <inheritdoc/>
    public static bool HasMin => true;

    /// <inheritdoc/>
    public static bool Wide => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block) => LegacyTiles.Nibbles(block + Q4_1.OffsetQs);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* block) => Simd.Half(block);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(byte* block) => Simd.Half(block + Q4_1.OffsetM);
}
