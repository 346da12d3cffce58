using System.Runtime.Intrinsics;

namespace ManagedKv.Cpu.Kernels;

/// <summary>One weight row's 256-value super-block header, decoded once per tile: factors, scales and mins.</summary>
internal struct KRow
{
    /// <summary>Super-block scale d.</summary>
    public float D;
    /// <summary>Super-block scale of the mins (0 for types without mins).</summary>
    public float DMin;
    /// <summary>Integer sub-block scales as int16: 16 for 16-value sub-blocks, else lanes 0..7.</summary>
    public Vector256<short> Scales;
    /// <summary>Integer sub-block mins as int16: 16 for Q2_K, lanes 0..7 for Q4_K/Q5_K.</summary>
    public Vector256<short> Mins;
}
