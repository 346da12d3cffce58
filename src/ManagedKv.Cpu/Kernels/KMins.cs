namespace ManagedKv.Cpu.Kernels;

/// <summary>How a K-quant's minimum term enters the result, following each type's ggml AVX2 dot product.</summary>
internal enum KMins
{
    /// <summary>No minimum (Q3_K, Q6_K).</summary>
    None,
    /// <summary>Q2_K: 16 mins × 16-value block sums, eight int32 lanes FMA'd into the main accumulator first.</summary>
    Sixteen,
    /// <summary>Q4_K: 8 mins × 32-value sums, four int32 lanes in a separate accumulator added at the end.</summary>
    Lanes4,
    /// <summary>Q5_K: 8 mins × 32-value sums reduced to one integer, a scalar accumulator added at the end.</summary>
    Scalar,
}
