using System.Runtime.Intrinsics;

namespace ManagedKv.Cpu.Kernels;

/// <summary>An unquantised weight row format (F32, F16, BF16) as <see cref="FloatTiles"/> reads it: values widened to f32.</summary>
internal unsafe interface IFloatRow
{
    /// <summary>Values i .. i+7 of the row.</summary>
    static abstract Vector256<float> Load8(byte* row, int i);

    /// <summary>Value i of the row.</summary>
    static abstract float Load1(byte* row, int i);
}
