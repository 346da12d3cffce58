using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q5_1: 32 5-bit codes, x = d·q + m. Paired with Q8_1 activations (ggml_vec_dot_q5_1_q8_1). The block as <see cref="LegacyTiles"/> reads it.</summary>
internal unsafe struct Q5_1Block : ILegacyBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q5_1;

    /// <inheritdoc/>
    public static int BlockBytes => Q5_1.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 0;

    /// <inheritdoc/>
    public static bool HasMin => true;

    /// <inheritdoc/>
    public static bool Wide => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block) => Avx2.Or(LegacyTiles.Nibbles(block + Q5_1.OffsetQs), LegacyTiles.FifthBits(block + Q5_1.OffsetQh));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* block) => Simd.Half(block);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(byte* block) => Simd.Half(block + Q5_1.OffsetM);
}
