using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q4_0: 32 4-bit codes, x = d·(q − 8). Paired with Q8_0 activations (ggml_vec_dot_q4_0_q8_0). The block as <see cref="LegacyTiles"/> reads it.</summary>
internal unsafe struct Q4_0Block : ILegacyBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q4_0;

    /// <inheritdoc/>
    public static int BlockBytes => Q4_0.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 8;

    /// <inheritdoc/>
    public static bool HasMin => false;

    /// <inheritdoc/>
    public static bool Wide => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block) => LegacyTiles.Nibbles(block + Q4_0.OffsetQs);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* block) => Simd.Half(block);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(byte* block) => 0f;
}
