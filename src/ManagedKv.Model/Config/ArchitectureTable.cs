namespace ManagedKv.Model.Config;

/// <summary>
/// The supported architectures, one row each. Rope style is a property of the stored weights, not of
/// the network: llama.cpp's converter (convert_hf_to_gguf.py, <c>LlamaModel.permute</c>) reorders the
/// rows of every llama/mistral q and k projection so that GGUF files use NORM (adjacent-pair) rope,
/// while Hugging Face checkpoints keep the original row order and need NEOX (half-split) rope.
/// Qwen2 is converted without permutation and is NEOX in both formats.
/// </summary>
public static class ArchitectureTable
{
    /// <summary>Every supported architecture.</summary>
    public static IReadOnlyList<ArchitectureInfo> All { get; } =
    [
        new(ModelArchitecture.Llama, "llama", "LlamaForCausalLM", "llama",
            GgufRopeStyle: RopeStyle.Norm, HfRopeStyle: RopeStyle.Neox, HasQkvBias: false, SupportsTiedEmbeddings: true, HfDefaultContextLength: 2048),
        new(ModelArchitecture.Mistral, "llama", "MistralForCausalLM", "mistral",
            GgufRopeStyle: RopeStyle.Norm, HfRopeStyle: RopeStyle.Neox, HasQkvBias: false, SupportsTiedEmbeddings: true, HfDefaultContextLength: 4096 * 32),
        new(ModelArchitecture.Qwen2, "qwen2", "Qwen2ForCausalLM", "qwen2",
            GgufRopeStyle: RopeStyle.Neox, HfRopeStyle: RopeStyle.Neox, HasQkvBias: true, SupportsTiedEmbeddings: true, HfDefaultContextLength: 32768),
    ];

    /// <summary>The row for <paramref name="architecture"/>.</summary>
    public static ArchitectureInfo Get(ModelArchitecture architecture) => All.First(a => a.Architecture == architecture);

    /// <summary>
    /// The architecture a GGUF <c>general.architecture</c> value denotes, or null. <c>llama</c> maps to
    /// <see cref="ModelArchitecture.Llama"/>: a converted Mistral is indistinguishable and computes the same.
    /// </summary>
    public static ArchitectureInfo? FromGguf(string generalArchitecture) =>
        All.FirstOrDefault(a => a.GgufArchitecture == generalArchitecture);

    /// <summary>
    /// The architecture of a config.json: the first recognised <c>architectures</c> entry; <c>model_type</c>
    /// only when <c>architectures</c> is absent or empty (a listed but unknown class, such as a
    /// sequence-classification head, is not a causal LM even if its model_type matches); or null.
    /// </summary>
    public static ArchitectureInfo? FromHuggingFace(IReadOnlyList<string>? architectures, string? modelType)
    {
        if (architectures is { Count: > 0 })
            return architectures.Select(name => All.FirstOrDefault(a => a.HfArchitecture == name)).FirstOrDefault(a => a is not null);
        return modelType is null ? null : All.FirstOrDefault(a => a.HfModelType == modelType);
    }
}
