using System.Runtime.Intrinsics;

namespace ManagedKv.Cpu.Kernels;

/// <summary>One weight row's 256-value super-block header, decoded once per tile: factors, scales and mins.</summary>
internal struct KRow
{
    /// <summary>Super-block scale d.</summary>
    public float D;
    /// <summary>Super-block scale of the mins (0 for types without mins).</summary>
    public float DMin;
    /// <summary>Integer sub-block scales as int16: 16 for 16-value sub-blocks; for Q4_K/Q5_K lanes 0..7, with the 8 mins in lanes 8..15.</summary>
    public Vector256<short> Scales;
    /// <summary>Q2_K's 16 integer sub-block mins as int16.</summary>
    public Vector256<short> Mins;
}
