using ManagedKv.Gguf;

namespace ManagedKv.Model.Config;

/// <summary>
/// Builds a <see cref="ModelConfig"/> from GGUF metadata, following llama.cpp's reading of the keys
/// (llama-model.cpp): required sizes, <c>head_count_kv</c> defaulting to <c>head_count</c>,
/// <c>key_length</c>/<c>value_length</c> overriding n_embd / n_head, rope base defaulting to 10000,
/// rope scaling type defaulting to linear with factor from <c>rope.scaling.factor</c> or the older
/// <c>rope.scale_linear</c>.
/// </summary>
internal static class GgufConfigReader
{
    public static ModelConfig Read(GgufFile file)
    {
        const string archKey = "general.architecture";
        string arch = file.GetString(archKey) ?? throw Error(file, archKey, "required key is missing");
        var info = ArchitectureTable.FromGguf(arch)
            ?? throw Error(file, archKey, $"unsupported architecture \"{arch}\"; supported: {string.Join(", ", ArchitectureTable.All.Select(a => a.GgufArchitecture).Distinct())}");

        Sourced<int> Int(string suffix) { string key = info.GgufKey(suffix); return new(file.GetInt32(key), Field(key)); }
        Sourced<float> Float(string suffix) { string key = info.GgufKey(suffix); return new(file.GetSingle(key), Field(key)); }

        return new RawConfig
        {
            File = file.FileName,
            Architecture = info.Architecture,
            Name = file.GetString("general.name") is { Length: > 0 } name ? name : Path.GetFileNameWithoutExtension(file.FileName),
            RopeStyle = info.GgufRopeStyle,
            RopeScaling = ReadScaling(file, info),
            TiedEmbeddings = file.FindTensor("output.weight") is null,
            VocabSize = ReadVocabSize(file, info),
            EmbeddingLength = Int("embedding_length"),
            BlockCount = Int("block_count"),
            HeadCount = Int("attention.head_count"),
            KvHeadCount = Int("attention.head_count_kv"),
            HeadDim = Int("attention.key_length"),
            ValueHeadDim = Int("attention.value_length"),
            FeedForwardLength = Int("feed_forward_length"),
            ContextLength = Int("context_length"),
            RopeDimensionCount = Int("rope.dimension_count"),
            RopeFreqBase = Float("rope.freq_base"),
            RmsNormEps = Float("attention.layer_norm_rms_epsilon"),
            HasRopeFrequencyFactors = file.FindTensor("rope_freqs.weight") is not null,
        }.Build();
    }

    /// <summary>
    /// <c>&lt;arch&gt;.vocab_size</c>, else the length of <c>tokenizer.ggml.tokens</c>, else the row count
    /// of token_embd (llama.cpp takes it from the tokenizer; the key is newer).
    /// </summary>
    private static Sourced<int> ReadVocabSize(GgufFile file, ArchitectureInfo info)
    {
        string key = info.GgufKey("vocab_size");
        if (file.GetInt32(key) is { } n) return new(n, Field(key));
        const string tokensKey = "tokenizer.ggml.tokens";
        if (file.GetArray(tokensKey) is { } tokens)
            return new(tokens.Count <= int.MaxValue ? (int)tokens.Count : throw Error(file, tokensKey, $"{tokens.Count} tokens overflow int32"), Field(tokensKey));
        if (file.FindTensor("token_embd.weight") is { Dimensions.Length: 2 } embd)
            return new(embd.Dimensions[1] <= int.MaxValue ? (int)embd.Dimensions[1] : throw Error(file, "tensor \"token_embd.weight\"", "vocabulary overflows int32"),
                "tensor \"token_embd.weight\".dims[1]");
        return new(null, Field(key));
    }

    private static RopeScaling ReadScaling(GgufFile file, ArchitectureInfo info)
    {
        string typeKey = info.GgufKey("rope.scaling.type");
        string factorKey = info.GgufKey("rope.scaling.factor");
        string type = file.GetString(typeKey) ?? "linear";
        float factor = file.GetSingle(factorKey) ?? file.GetSingle(info.GgufKey("rope.scale_linear")) ?? 0f;

        Exception Bad(string parameter, string problem) =>
            Error(file, parameter == "factor" ? factorKey : info.GgufKey("rope.scaling." + parameter), problem);

        RopeScaling scaling;
        switch (type)
        {
            case "none":
                return RopeScaling.None;
            case "linear":
                // llama.cpp: a factor of 0 (absent) or 1 means no scaling.
                if (factor == 0f || factor == 1f) return RopeScaling.None;
                scaling = new RopeScaling.Linear(factor);
                break;
            case "llama3":
            {
                // llama.cpp itself stores Llama 3.1 scaling as the rope_freqs.weight tensor; these keys
                // are ManagedKv's spelling of the config.json rope_scaling fields, so a GGUF can carry them explicitly.
                float Need(string parameter)
                {
                    string key = info.GgufKey("rope.scaling." + parameter);
                    return file.GetSingle(key) ?? throw Error(file, key, "required for llama3 rope scaling but missing");
                }
                string origKey = info.GgufKey("rope.scaling.original_context_length");
                scaling = new RopeScaling.Llama3(
                    file.GetSingle(factorKey) ?? throw Error(file, factorKey, "required for llama3 rope scaling but missing"),
                    Need("low_freq_factor"), Need("high_freq_factor"),
                    file.GetInt32(origKey) ?? throw Error(file, origKey, "required for llama3 rope scaling but missing"));
                break;
            }
            default:
                throw Error(file, typeKey, $"unsupported rope scaling type \"{type}\"; supported: none, linear, llama3");
        }
        scaling.Validate(Bad);
        return scaling;
    }

    private static string Field(string key) => $"metadata[\"{key}\"]";

    private static GgufFormatException Error(GgufFile file, string key, string problem) =>
        new(file.FileName, key.StartsWith("tensor ", StringComparison.Ordinal) ? key : Field(key), -1, problem);
}
