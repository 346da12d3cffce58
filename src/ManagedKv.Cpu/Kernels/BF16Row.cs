using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>BF16: bfloat16 weights against activations rounded to bf16, in vdpbf16ps pairs (llama.cpp's tinyBLAS with AVX512_BF16). The row as <see cref="FloatTiles"/> reads it.</summary>
internal unsafe struct BF16Row : IFloatRow
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.BF16;

    /// <inheritdoc/>
    public static ActivationKind Activation => ActivationKind.BF16;

    /// <inheritdoc/>
    public static bool Paired => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int i) => Vector512<float>.Zero;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i) => Simd.LoadBf16x8((ushort*)row + i); // unused: BF16 steps are paired

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int i) => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[i] << 16);
}
