using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>F16: half weights against activations rounded to f16 (ggml_vec_dot_f16). The row as <see cref="FloatTiles"/> reads it.</summary>
internal unsafe struct F16Row : IFloatRow
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.F16;

    /// <inheritdoc/>
    public static ActivationKind Activation => ActivationKind.F16;

    /// <inheritdoc/>
    public static bool Paired => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int i) => Simd.LoadHalf16((ushort*)row + i);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i) => Simd.LoadHalf8((ushort*)row + i);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int i) => Simd.HalfTable[((ushort*)row)[i]];
}
