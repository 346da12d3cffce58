using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q5_0: 32 5-bit codes (4 low bits packed, fifth bits in a uint32), x = d·(q − 16). Paired with Q8_0 activations (ggml_vec_dot_q5_0_q8_0). The block as <see cref="LegacyTiles"/> reads it.</summary>
internal unsafe struct Q5_0Block : ILegacyBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q5_0;

    /// <inheritdoc/>
    public static int BlockBytes => Q5_0.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 16;

    /// <inheritdoc/>
    public static bool HasMin => false;

    /// <inheritdoc/>
    public static bool Wide => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block) => Avx2.Or(LegacyTiles.Nibbles(block + Q5_0.OffsetQs), LegacyTiles.FifthBits(block + Q5_0.OffsetQh));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* block) => Simd.Half(block);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(byte* block) => 0f;
}
