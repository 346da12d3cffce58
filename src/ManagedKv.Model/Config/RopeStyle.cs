namespace ManagedKv.Model.Config;

/// <summary>
/// Which elements of a head vector rotary position embedding pairs up. Both rotate pair i by the
/// angle pos·θ_i with θ_i = base^(−2i/d); they differ only in which two elements form pair i.
/// </summary>
public enum RopeStyle
{
    /// <summary>
    /// Adjacent pairs (x[2i], x[2i+1]): llama.cpp's LLAMA_ROPE_TYPE_NORM, used for GGUF llama/mistral,
    /// whose q/k weights llama.cpp's converter permuted into this layout.
    /// </summary>
    Norm,

    /// <summary>
    /// Half-split pairs (x[i], x[i + d/2]): llama.cpp's LLAMA_ROPE_TYPE_NEOX and Hugging Face's
    /// <c>rotate_half</c>; used for GGUF qwen2 and for every unpermuted Hugging Face checkpoint.
    /// </summary>
    Neox,
}
