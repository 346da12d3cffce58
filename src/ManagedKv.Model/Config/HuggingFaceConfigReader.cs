using ManagedKv.Gguf;
using ManagedKv.Gguf.Safetensors;

namespace ManagedKv.Model.Config;

/// <summary>
/// Builds a <see cref="ModelConfig"/> from a Hugging Face config.json. Shape fields are required;
/// optional fields take the defaults of the transformers config classes (rms_norm_eps 1e-6,
/// rope_theta 10000, tie_word_embeddings false, max_position_embeddings per architecture), except
/// that a missing num_key_value_heads means plain multi-head attention, as in llama.cpp's converter.
/// Rope style is always NEOX: the checkpoint's q/k weights are in Hugging Face's original order.
/// </summary>
internal static class HuggingFaceConfigReader
{
    /// <summary>Largest config.json accepted.</summary>
    public const long MaxBytes = 16L << 20;

    public static ModelConfig Read(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "config.json");
        using var doc = HfJson.ReadFile(path, MaxBytes);
        var root = new HfJsonObject(doc.RootElement, path);

        string[]? architectures = root.StringArray("architectures");
        string? modelType = root.String("model_type");
        var info = ArchitectureTable.FromHuggingFace(architectures, modelType)
            ?? throw root.Error(architectures is { Length: > 0 } || modelType is null ? "architectures" : "model_type",
                $"unsupported or missing architecture ({(architectures is null ? "none" : string.Join(", ", architectures))}, model_type {modelType ?? "none"}); " +
                $"supported: {string.Join(", ", ArchitectureTable.All.Select(a => a.HfArchitecture))}");

        // Features these architectures can switch on that ManagedKv does not implement: refuse loudly.
        if (root.String("hidden_act") is { } act && act != "silu")
            throw root.Error("hidden_act", $"activation \"{act}\" is not supported; these architectures use silu");
        if (info.Architecture != ModelArchitecture.Qwen2 && root.Bool("attention_bias") == true)
            throw root.Error("attention_bias", "attention projections with biases are not supported for this architecture");
        if (root.Bool("mlp_bias") == true)
            throw root.Error("mlp_bias", "feed-forward biases are not supported");

        // transformers v5 moves rope_theta and the scaling block into rope_parameters.
        var ropeParameters = root.Object("rope_parameters");
        Sourced<float> ropeTheta = root.Has("rope_theta") || ropeParameters is null
            ? Float(root, "rope_theta")
            : Float(ropeParameters.Value, "rope_theta");
        var scaling = ReadScaling(root.Object("rope_scaling") ?? ropeParameters);

        int? slidingWindow = root.Int32("sliding_window");
        if (info.Architecture == ModelArchitecture.Qwen2 && root.Bool("use_sliding_window") != true) slidingWindow = null;

        string name = root.String("_name_or_path") is { Length: > 0 } n ? n : Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "model";

        return new RawConfig
        {
            File = path,
            Architecture = info.Architecture,
            Name = name,
            RopeStyle = info.HfRopeStyle,
            RopeScaling = scaling,
            TiedEmbeddings = root.Bool("tie_word_embeddings") ?? false,
            VocabSize = Int(root, "vocab_size"),
            EmbeddingLength = Int(root, "hidden_size"),
            BlockCount = Int(root, "num_hidden_layers"),
            HeadCount = Int(root, "num_attention_heads"),
            KvHeadCount = Int(root, "num_key_value_heads"),
            HeadDim = Int(root, "head_dim"),
            ValueHeadDim = new(null, root.FieldName("head_dim")),
            FeedForwardLength = Int(root, "intermediate_size"),
            ContextLength = new(root.Int32("max_position_embeddings") ?? info.HfDefaultContextLength, root.FieldName("max_position_embeddings")),
            RopeDimensionCount = new(null, root.FieldName("head_dim")),
            RopeFreqBase = ropeTheta,
            RmsNormEps = new(Float(root, "rms_norm_eps").Value ?? 1e-6f, root.FieldName("rms_norm_eps")),
            SlidingWindow = slidingWindow,
        }.Build();
    }

    private static RopeScaling ReadScaling(HfJsonObject? block)
    {
        if (block is not { } s) return RopeScaling.None;
        string typeField = s.Has("rope_type") ? "rope_type" : "type";
        string type = s.String(typeField) ?? throw s.Error("rope_type", "required field is missing (rope_type or type)");
        RopeScaling scaling = type switch
        {
            "default" or "none" => RopeScaling.None,
            "linear" => new RopeScaling.Linear(Required(s, "factor")),
            "llama3" => new RopeScaling.Llama3(Required(s, "factor"), Required(s, "low_freq_factor"), Required(s, "high_freq_factor"),
                s.Int32("original_max_position_embeddings") ?? throw s.Error("original_max_position_embeddings", "required for llama3 rope scaling but missing")),
            _ => throw s.Error(typeField, $"unsupported rope scaling type \"{type}\"; supported: default, linear, llama3"),
        };
        scaling.Validate((parameter, problem) =>
            s.Error(parameter == "original_context_length" ? "original_max_position_embeddings" : parameter, problem));
        return scaling;
    }

    private static float Required(HfJsonObject o, string name) =>
        (float)(o.Double(name) ?? throw o.Error(name, "required for this rope scaling type but missing"));

    private static Sourced<int> Int(HfJsonObject o, string name) => new(o.Int32(name), o.FieldName(name));

    private static Sourced<float> Float(HfJsonObject o, string name) => new((float?)o.Double(name), o.FieldName(name));
}
