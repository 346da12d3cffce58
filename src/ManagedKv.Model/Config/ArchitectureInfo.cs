namespace ManagedKv.Model.Config;

/// <summary>The facts about one architecture that loading and the forward pass depend on.</summary>
/// <param name="Architecture">The architecture.</param>
/// <param name="GgufArchitecture">
/// The <c>general.architecture</c> value llama.cpp writes, which is also the prefix of the
/// architecture's metadata keys (<c>llama.embedding_length</c>). Mistral shares <c>llama</c>.
/// </param>
/// <param name="HfArchitecture">The class name in config.json <c>architectures</c>.</param>
/// <param name="HfModelType">The config.json <c>model_type</c>.</param>
/// <param name="GgufRopeStyle">Rope pairing for weights as stored in GGUF.</param>
/// <param name="HfRopeStyle">Rope pairing for weights as stored in a Hugging Face checkpoint.</param>
/// <param name="HasQkvBias">Whether attn_q/attn_k/attn_v carry bias vectors.</param>
/// <param name="SupportsTiedEmbeddings">Whether the output projection may reuse token_embd.</param>
/// <param name="HfDefaultContextLength">max_position_embeddings of the transformers config class, used when config.json omits it.</param>
public sealed record ArchitectureInfo(
    ModelArchitecture Architecture,
    string GgufArchitecture,
    string HfArchitecture,
    string HfModelType,
    RopeStyle GgufRopeStyle,
    RopeStyle HfRopeStyle,
    bool HasQkvBias,
    bool SupportsTiedEmbeddings,
    int HfDefaultContextLength)
{
    /// <summary>Prefix of the architecture's GGUF metadata keys.</summary>
    public string GgufKeyPrefix => GgufArchitecture;

    /// <summary>The full GGUF metadata key for <paramref name="suffix"/>, e.g. <c>llama.attention.head_count</c>.</summary>
    public string GgufKey(string suffix) => GgufKeyPrefix + "." + suffix;
}
