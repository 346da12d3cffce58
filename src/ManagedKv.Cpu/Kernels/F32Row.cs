using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>F32: f32 weights, f32 activations. The row as <see cref="FloatTiles"/> reads it.</summary>
internal unsafe struct F32Row : IFloatRow
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.F32;

    /// <inheritdoc/>
    public static ActivationKind Activation => ActivationKind.F32;

    /// <inheritdoc/>
    public static bool Paired => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int i) => Avx512F.LoadVector512((float*)row + i);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int i) => Avx.LoadVector256((float*)row + i);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int i) => ((float*)row)[i];
}
