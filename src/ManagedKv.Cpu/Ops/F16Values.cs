using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Kernels;

namespace ManagedKv.Cpu.Ops;

/// <summary>F16 cache rows, widened exactly.</summary>
internal unsafe struct F16Values : IValueRow
{
    /// <inheritdoc/>
    public static int ElementBytes => 2;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int d) => Simd.LoadHalf8((ushort*)row + d);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int d) => Vector512.Create(Simd.LoadHalf8((ushort*)row + d), Simd.LoadHalf8((ushort*)row + d + 8));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int d) => Simd.HalfTable[((ushort*)row)[d]];
}
