using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ManagedKv.Cpu.Ops;

/// <summary>Loads from f32 cache rows, the one layout the attention kernels read (other storages are widened to it first).</summary>
internal static unsafe class F32Values
{
    /// <summary>Elements d .. d+7 of the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* row, int d) => Avx.LoadVector256((float*)row + d);

    /// <summary>Elements d .. d+15 of the row (AVX-512 machines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int d) => Avx512F.LoadVector512((float*)row + d);

    /// <summary>Element d of the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int d) => ((float*)row)[d];
}
