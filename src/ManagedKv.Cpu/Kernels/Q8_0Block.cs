using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q8_0: 32 int8 codes, x = d·q. Stored codes are shifted by 128 to be unsigned. Paired with Q8_0 activations (ggml_vec_dot_q8_0_q8_0). The block as <see cref="LegacyTiles"/> reads it.</summary>
internal unsafe struct Q8_0Block : ILegacyBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q8_0;

    /// <inheritdoc/>
    public static int BlockBytes => Q8_0.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 128;

    /// <inheritdoc/>
    public static bool HasMin => false;

    /// <inheritdoc/>
    public static bool Wide => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block) => Avx.LoadVector256(block + Q8_0.OffsetQs) ^ Vector256.Create((byte)0x80);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Scale(byte* block) => Simd.Half(block);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Min(byte* block) => 0f;
}
