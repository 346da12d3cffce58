namespace ManagedKv.Cpu.Kernels;

/// <summary>The minimum term of a K-quant: Σ_j m_j·(activation sum of sub-block j), scaled by dmin_w·d_a.</summary>
internal enum KMins
{
    /// <summary>No minimum (Q3_K, Q6_K).</summary>
    None,
    /// <summary>Q2_K: 16 mins against the 16-value block sums.</summary>
    Sixteen,
    /// <summary>Q4_K, Q5_K: 8 mins against the 32-value block sums.</summary>
    Eight,
}
