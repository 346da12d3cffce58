namespace ManagedKv.Model.Synthesis;

/// <summary>
/// llama.cpp's <c>llama_ftype</c>: the quantisation mix of a whole file, stored as <c>general.file_type</c>.
/// Numbered exactly as in llama.h. Only the mixes ManagedKv can produce without an importance matrix are
/// listed (the i-quants and Q2_K_S need one, or kernels ManagedKv does not have).
/// </summary>
public enum LlamaFileType
{
    /// <summary>LLAMA_FTYPE_ALL_F32.</summary>
    F32 = 0,
    /// <summary>LLAMA_FTYPE_MOSTLY_F16.</summary>
    F16 = 1,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q4_0.</summary>
    Q4_0 = 2,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q4_1.</summary>
    Q4_1 = 3,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q8_0.</summary>
    Q8_0 = 7,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q5_0.</summary>
    Q5_0 = 8,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q5_1.</summary>
    Q5_1 = 9,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q2_K.</summary>
    Q2_K = 10,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q3_K_S.</summary>
    Q3_K_S = 11,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q3_K_M.</summary>
    Q3_K_M = 12,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q3_K_L.</summary>
    Q3_K_L = 13,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q4_K_S.</summary>
    Q4_K_S = 14,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q4_K_M.</summary>
    Q4_K_M = 15,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q5_K_S.</summary>
    Q5_K_S = 16,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q5_K_M.</summary>
    Q5_K_M = 17,
    /// <summary>LLAMA_FTYPE_MOSTLY_Q6_K.</summary>
    Q6_K = 18,
    /// <summary>LLAMA_FTYPE_MOSTLY_BF16.</summary>
    BF16 = 32,
}
