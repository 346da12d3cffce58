namespace ManagedKv.Cpu.Kernels;

/// <summary>One weight row's 256-value super-block header, decoded once per tile: scales, mins and the two f16 factors.</summary>
internal unsafe struct KRow
{
    /// <summary>Super-block scale d.</summary>
    public float D;
    /// <summary>Super-block scale of the mins (0 for types without mins).</summary>
    public float DMin;
    /// <summary>Integer sub-block scales (16 for 16-value sub-blocks, else 8).</summary>
    public fixed int Scales[16];
    /// <summary>Integer sub-block mins as int16 (16 for Q2_K, 8 for Q4_K/Q5_K).</summary>
    public fixed short Mins[16];
}
