using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ManagedKv.Cpu.Ops;

/// <summary>F32 cache rows.</summary>
internal unsafe struct F32Values : IValueRow
{
    /// <inheritdoc/>
    public static int ElementBytes => 4;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int d) => Avx.LoadVector256((float*)row + d);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int d) => Avx512F.LoadVector512((float*)row + d);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int d) => ((float*)row)[d];
}
