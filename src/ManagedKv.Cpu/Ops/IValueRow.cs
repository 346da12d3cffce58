using System.Runtime.Intrinsics;

namespace ManagedKv.Cpu.Ops;

/// <summary>A cached key or value row's element format as the attention kernels read it (widened to f32).</summary>
internal unsafe interface IValueRow
{
    /// <summary>Bytes per element.</summary>
    static abstract int ElementBytes { get; }

    /// <summary>Elements d .. d+7 of the row.</summary>
    static abstract Vector256<float> Load8(byte* row, int d);

    /// <summary>Elements d .. d+15 of the row (AVX-512 machines).</summary>
    static abstract Vector512<float> Load16(byte* row, int d);

    /// <summary>Element d of the row.</summary>
    static abstract float Load1(byte* row, int d);
}
