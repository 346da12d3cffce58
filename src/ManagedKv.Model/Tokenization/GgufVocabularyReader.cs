using ManagedKv.Gguf;

namespace ManagedKv.Model.Tokenization;

/// <summary>Reads the <c>tokenizer.ggml.*</c> metadata of a GGUF file into a <see cref="VocabularyDefinition"/>.</summary>
internal static class GgufVocabularyReader
{
    /// <summary>GGUF keys of the special token ids llama.cpp reads (deprecated FIM aliases included).</summary>
    public static readonly string[] SpecialIdKeys =
    [
        ModelTokenizer.BosKey, ModelTokenizer.EosKey, "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id",
        "tokenizer.ggml.mask_token_id", "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
        "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id",
        "tokenizer.ggml.fim_sep_token_id", "tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id",
        "tokenizer.ggml.middle_token_id",
    ];

    /// <summary>Reads and shape-checks the tokenizer metadata; semantic checks happen in <see cref="ModelTokenizer"/>.</summary>
    public static VocabularyDefinition Read(GgufFile file)
    {
        const string modelKey = "tokenizer.ggml.model";
        string model = file.GetString(modelKey) ?? throw Error(file, modelKey, "is missing (the file has no tokenizer)");

        string[] tokens = StringArray(file, "tokenizer.ggml.tokens") ?? throw Error(file, "tokenizer.ggml.tokens", "is missing");
        float[]? scores = NumericArray(file, "tokenizer.ggml.scores", a => a.ToSingleArray());
        int[]? types = NumericArray(file, "tokenizer.ggml.token_type", a => a.ToInt32Array());

        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string key in SpecialIdKeys)
        {
            if (!file.Metadata.TryGetValue(key, out var value)) continue;
            if (!value.IsInteger) throw Error(file, key, $"must be an integer, found {value.Type}");
            long id = value.AsInt64();
            // llama.cpp reads these as uint32; converters write 0xFFFFFFFF (or -1) for "no such token".
            if (id is -1 or 0xFFFFFFFF) continue;
            ids[key] = id;
        }

        return new VocabularyDefinition
        {
            Source = file.FileName,
            Model = model,
            Pre = file.GetString("tokenizer.ggml.pre"),
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            Merges = StringArray(file, "tokenizer.ggml.merges"),
            SpecialIds = ids,
            AddBos = file.GetBool(ModelTokenizer.AddBosKey),
            AddEos = file.GetBool(ModelTokenizer.AddEosKey),
            AddSpacePrefix = file.GetBool("tokenizer.ggml.add_space_prefix"),
            GeneralName = file.Metadata.TryGetValue("general.name", out var name) && name.Type == GgufValueType.String ? name.AsString() : null,
        };
    }

    private static string[]? StringArray(GgufFile file, string key)
    {
        var array = file.GetArray(key);
        if (array is null) return null;
        if (array.ElementType != GgufValueType.String) throw Error(file, key, $"must be an array of strings, found an array of {array.ElementType}");
        return array.ToStringArray();
    }

    private static T[]? NumericArray<T>(GgufFile file, string key, Func<GgufArray, T[]> convert)
    {
        var array = file.GetArray(key);
        if (array is null) return null;
        try
        {
            return convert(array);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException)
        {
            throw Error(file, key, e.Message, e);
        }
    }

    private static GgufFormatException Error(GgufFile file, string key, string problem, Exception? inner = null) =>
        new(file.FileName, $"metadata[\"{key}\"]", -1, problem, inner);
}
