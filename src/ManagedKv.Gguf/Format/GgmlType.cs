namespace ManagedKv.Gguf;

/// <summary>
/// ggml tensor element types, numbered exactly as in ggml.h (the numbers are stored in GGUF files).
/// Gaps are ids that ggml retired; a file naming one is rejected as an unknown type.
/// </summary>
public enum GgmlType : uint
{
    /// <summary>32-bit IEEE float.</summary>
    F32 = 0,
    /// <summary>16-bit IEEE half float.</summary>
    F16 = 1,
    /// <summary>Blocks of 32: f16 scale d, 32 4-bit codes; x = d·(q − 8).</summary>
    Q4_0 = 2,
    /// <summary>Blocks of 32: f16 scale d and min m, 32 4-bit codes; x = d·q + m.</summary>
    Q4_1 = 3,
    /// <summary>Blocks of 32: f16 scale, 5-bit codes (high bits packed in 32 bits); x = d·(q − 16).</summary>
    Q5_0 = 6,
    /// <summary>Blocks of 32: f16 scale and min, 5-bit codes; x = d·q + m.</summary>
    Q5_1 = 7,
    /// <summary>Blocks of 32: f16 scale d, 32 signed bytes; x = d·q.</summary>
    Q8_0 = 8,
    /// <summary>Blocks of 32: f16 scale d and f16 s = d·Σq, 32 signed bytes (activation type for Q4_1/Q5_1).</summary>
    Q8_1 = 9,
    /// <summary>K-quant super-blocks of 256, 2-bit codes with 4-bit scales and mins.</summary>
    Q2_K = 10,
    /// <summary>K-quant super-blocks of 256, 3-bit codes with 6-bit scales.</summary>
    Q3_K = 11,
    /// <summary>K-quant super-blocks of 256, 4-bit codes with 6-bit scales and mins.</summary>
    Q4_K = 12,
    /// <summary>K-quant super-blocks of 256, 5-bit codes with 6-bit scales and mins.</summary>
    Q5_K = 13,
    /// <summary>K-quant super-blocks of 256, 6-bit codes with 8-bit scales.</summary>
    Q6_K = 14,
    /// <summary>K-quant super-blocks of 256: f32 scale, 256 signed bytes, 16 block sums (activation type).</summary>
    Q8_K = 15,
    /// <summary>i-quant (lattice codebook), not computed by ManagedKv but recognised for inspection.</summary>
    IQ2_XXS = 16,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ2_XS = 17,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ3_XXS = 18,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ1_S = 19,
    /// <summary>i-quant (non-linear 4-bit), recognised for inspection only.</summary>
    IQ4_NL = 20,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ3_S = 21,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ2_S = 22,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ4_XS = 23,
    /// <summary>8-bit integer.</summary>
    I8 = 24,
    /// <summary>16-bit integer.</summary>
    I16 = 25,
    /// <summary>32-bit integer.</summary>
    I32 = 26,
    /// <summary>64-bit integer.</summary>
    I64 = 27,
    /// <summary>64-bit IEEE float.</summary>
    F64 = 28,
    /// <summary>i-quant, recognised for inspection only.</summary>
    IQ1_M = 29,
    /// <summary>bfloat16: the top 16 bits of an f32.</summary>
    BF16 = 30,
    /// <summary>Ternary quant, recognised for inspection only.</summary>
    TQ1_0 = 34,
    /// <summary>Ternary quant, recognised for inspection only.</summary>
    TQ2_0 = 35,
    /// <summary>Microscaling FP4, recognised for inspection only.</summary>
    MXFP4 = 39,
}
