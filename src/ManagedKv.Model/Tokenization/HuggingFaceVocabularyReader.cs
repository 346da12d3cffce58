using System.Text.Json;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> holding a BPE model into the same <see cref="VocabularyDefinition"/>
/// a GGUF converter would write, so it tokenizes as llama.cpp would after conversion:
/// <list type="bullet">
/// <item>byte-level BPE (a <c>ByteLevel</c> pre-tokenizer) becomes <c>gpt2</c> with the <c>tokenizer.ggml.pre</c>
/// that llama.cpp's converter assigns to its pre-tokenizer: GPT-2 (<c>ByteLevel</c> with its own regex), Llama 3
/// and Qwen2 (their <c>Split</c> regexes) and SmolLM/StarCoder (<c>Digits</c> + <c>ByteLevel</c>);</item>
/// <item>SentencePiece-style BPE (Llama 2, Mistral: <c>byte_fallback</c>, U+2581 for spaces) becomes <c>llama</c>.
/// Its pieces are scored by merge rank (the first merge producing a piece gives it score -rank), which makes
/// the score-driven SPM algorithm pick the same merges as rank-driven BPE; pieces no merge produces (byte and
/// special tokens) get the lowest score.</item>
/// </list>
/// BOS/EOS come from the <c>TemplateProcessing</c> post-processor and, when present, the
/// <c>tokenizer_config.json</c> next to the file. Anything else is rejected with a
/// <see cref="GgufFormatException"/> naming the JSON field.
/// </summary>
internal static class HuggingFaceVocabularyReader
{
    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Reads the file (and its sibling <c>tokenizer_config.json</c>, if any).</summary>
    public static VocabularyDefinition Read(string path)
    {
        using var document = Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Error(path, "$", "the document is not a JSON object");

        var model = Member(path, root, "model", JsonValueKind.Object, "model");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (type != "BPE") throw Error(path, "model.type", $"unsupported model type \"{type}\"; only BPE models are supported");

        // id → text from model.vocab and added_tokens.
        var byId = new Dictionary<int, string>();
        var types = new Dictionary<int, int>();
        foreach (var entry in Member(path, model, "vocab", JsonValueKind.Object, "model.vocab").EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw Error(path, $"model.vocab[\"{entry.Name}\"]", "is not a non-negative integer id");
            if (!byId.TryAdd(id, entry.Name)) throw Error(path, $"model.vocab[\"{entry.Name}\"]", $"id {id} is also \"{byId[id]}\"");
        }
        var specialTexts = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (var token in added.EnumerateArray())
            {
                string field = $"added_tokens[{index++}]";
                if (token.ValueKind != JsonValueKind.Object
                    || !token.TryGetProperty("id", out var idElement) || !idElement.TryGetInt32(out int id) || id < 0
                    || !token.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    throw Error(path, field, "needs a non-negative \"id\" and a string \"content\"");
                string text = content.GetString()!;
                if (byId.TryGetValue(id, out var existing) && existing != text)
                    throw Error(path, field, $"id {id} is \"{text}\" here but \"{existing}\" in model.vocab");
                byId[id] = text;
                bool special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                types[id] = special ? 3 : 4;       // CONTROL : USER_DEFINED, as llama.cpp's converter writes them
                if (special) specialTexts.Add(text);
            }
        }
        if (byId.Count == 0) throw Error(path, "model.vocab", "is empty");
        int n = byId.Keys.Max() + 1;
        var tokens = new string[n];
        for (int id = 0; id < n; id++)
            tokens[id] = byId.TryGetValue(id, out var text) ? text : throw Error(path, "model.vocab", $"has no token with id {id} (ids must be contiguous)");

        string[] merges = ReadMerges(path, model);
        bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        string? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;

        var preTokenizer = root.TryGetProperty("pre_tokenizer", out var p) ? p : default;
        bool byteLevel = ContainsType(preTokenizer, "ByteLevel")
            || (root.TryGetProperty("decoder", out var d) && ContainsType(d, "ByteLevel"));
        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < n; id++) tokenToId.TryAdd(tokens[id], id);

        string modelName, pre;
        float[]? scores = null;
        bool? addSpacePrefix = null;
        var typeArray = new int[n];
        for (int id = 0; id < n; id++) typeArray[id] = types.GetValueOrDefault(id, 1);
        if (unk is not null && tokenToId.TryGetValue(unk, out int unkId)) typeArray[unkId] = 2;

        if (byteLevel)
        {
            modelName = "gpt2";
            pre = DetectByteLevelPre(path, preTokenizer);
        }
        else
        {
            if (!byteFallback) throw Error(path, "model.byte_fallback", "a BPE model without a ByteLevel pre-tokenizer must be SentencePiece-style with byte_fallback: true");
            modelName = "llama";
            pre = "default";
            addSpacePrefix = DetectSpacePrefix(root);
            for (int id = 0; id < n; id++)
                if (typeArray[id] == 1 && tokens[id] is { Length: 6 } b && b.StartsWith("<0x", StringComparison.Ordinal) && b.EndsWith('>')) typeArray[id] = 6;
            scores = new float[n];
            Array.Fill(scores, float.MinValue);
            for (int rank = merges.Length - 1; rank >= 0; rank--)     // lowest rank wins: fill from the back
            {
                int space = merges[rank].IndexOf(' ', 1);
                if (tokenToId.TryGetValue(string.Concat(merges[rank].AsSpan(0, space), merges[rank].AsSpan(space + 1)), out int merged))
                    scores[merged] = -rank;
            }
        }

        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        if (unk is not null && tokenToId.TryGetValue(unk, out int unkIndex)) ids[ModelTokenizer.UnknownKey] = unkIndex;
        var (bos, eos, addBos, addEos) = ReadSpecialTokens(path, root, tokenToId);
        if (bos is not null) ids[ModelTokenizer.BosKey] = bos.Value;
        if (eos is not null) ids[ModelTokenizer.EosKey] = eos.Value;

        return new VocabularyDefinition
        {
            Source = path,
            Model = modelName,
            Pre = pre,
            Tokens = tokens,
            Scores = scores,
            TokenTypes = typeArray,
            Merges = merges,
            SpecialIds = ids,
            AddBos = addBos,
            AddEos = addEos,
            AddSpacePrefix = addSpacePrefix,
            FieldName = key => key switch
            {
                ModelTokenizer.TokensKey => "model.vocab",
                ModelTokenizer.MergesKey => "model.merges",
                ModelTokenizer.PreKey => "pre_tokenizer",
                ModelTokenizer.BosKey or ModelTokenizer.AddBosKey => "post_processor / tokenizer_config.json (BOS)",
                ModelTokenizer.EosKey or ModelTokenizer.AddEosKey => "post_processor / tokenizer_config.json (EOS)",
                ModelTokenizer.UnknownKey => "model.unk_token",
                _ => key,
            },
        };
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new GgufFormatException(path, $"JSON line {e.LineNumber + 1}, byte {e.BytePositionInLine}", -1, e.Message, e);
        }
    }

    private static string[] ReadMerges(string path, JsonElement model)
    {
        var array = Member(path, model, "merges", JsonValueKind.Array, "model.merges");
        var merges = new string[array.GetArrayLength()];
        int i = 0;
        foreach (var merge in array.EnumerateArray())
        {
            // Older files write "a b", newer ones ["a", "b"].
            string? text = merge.ValueKind switch
            {
                JsonValueKind.String => merge.GetString(),
                JsonValueKind.Array when merge.GetArrayLength() == 2 && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String
                    => merge[0].GetString() + " " + merge[1].GetString(),
                _ => null,
            };
            if (text is null || text.IndexOf(' ', Math.Min(1, text.Length)) < 1)
                throw Error(path, $"model.merges[{i}]", "is not a pair of tokens");
            merges[i++] = text;
        }
        return merges;
    }

    // The tokenizer.ggml.pre llama.cpp's convert_hf_to_gguf assigns to these pre-tokenizer layouts.
    private static string DetectByteLevelPre(string path, JsonElement pre)
    {
        if (Type(pre) == "ByteLevel")
        {
            if (pre.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                throw Error(path, "pre_tokenizer.add_prefix_space", "true is not supported (llama.cpp has no such pre-tokenizer)");
            return "gpt-2";
        }
        if (Type(pre) == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var items = list.EnumerateArray().ToArray();
            if (items.Length == 2 && Type(items[0]) == "Split" && Type(items[1]) == "ByteLevel"
                && items[0].TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
                && pattern.TryGetProperty("Regex", out var regex) && regex.ValueKind == JsonValueKind.String)
            {
                return regex.GetString() switch
                {
                    Llama3Regex => "llama-bpe",
                    Qwen2Regex => "qwen2",
                    var other => throw Error(path, "pre_tokenizer.pretokenizers[0].pattern.Regex", $"unsupported split regex {other}"),
                };
            }
            if (items.Length == 2 && Type(items[0]) == "Digits" && Type(items[1]) == "ByteLevel"
                && items[0].TryGetProperty("individual_digits", out var digits) && digits.ValueKind == JsonValueKind.True)
                return "smollm";
        }
        throw Error(path, "pre_tokenizer", "unsupported byte-level pre-tokenizer layout (supported: GPT-2, Llama 3, Qwen2, SmolLM)");
    }

    // SentencePiece-style files add the dummy "▁" with a Prepend normalizer or a Metaspace pre-tokenizer.
    private static bool DetectSpacePrefix(JsonElement root)
    {
        if (root.TryGetProperty("normalizer", out var normalizer) && FindAll(normalizer).Any(e => Type(e) == "Prepend"))
            return true;
        if (root.TryGetProperty("pre_tokenizer", out var pre))
        {
            var meta = FindAll(pre).FirstOrDefault(e => Type(e) == "Metaspace");
            if (meta.ValueKind == JsonValueKind.Object)
            {
                if (meta.TryGetProperty("prepend_scheme", out var scheme) && scheme.ValueKind == JsonValueKind.String)
                    return scheme.GetString() != "never";
                return !(meta.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.False);
            }
        }
        return false;
    }

    private static (int? Bos, int? Eos, bool? AddBos, bool? AddEos) ReadSpecialTokens(string path, JsonElement root, Dictionary<string, int> tokenToId)
    {
        int? Lookup(string? text, string field) =>
            text is null ? null : tokenToId.TryGetValue(text, out int id) ? id : throw Error(path, field, $"names \"{text}\", which is not in the vocabulary");

        string? bosText = null, eosText = null;
        bool? addBos = null, addEos = null;
        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
        {
            addBos = false;
            addEos = false;
            var template = FindAll(post).FirstOrDefault(e => Type(e) == "TemplateProcessing");
            if (template.ValueKind == JsonValueKind.Object && template.TryGetProperty("single", out var single) && single.ValueKind == JsonValueKind.Array)
            {
                var parts = single.EnumerateArray().ToArray();
                static string? SpecialId(JsonElement e) =>
                    e.ValueKind == JsonValueKind.Object && e.TryGetProperty("SpecialToken", out var st) && st.TryGetProperty("id", out var id) ? id.GetString() : null;
                if (parts.Length > 0 && SpecialId(parts[0]) is { } first)
                {
                    bosText = first;
                    addBos = true;
                }
                if (parts.Length > 1 && SpecialId(parts[^1]) is { } last)
                {
                    eosText = last;
                    addEos = true;
                }
            }
        }

        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using var config = Parse(configPath);
            var c = config.RootElement;
            if (c.ValueKind == JsonValueKind.Object)
            {
                bosText = TokenString(c, "bos_token") ?? bosText;
                eosText = TokenString(c, "eos_token") ?? eosText;
                if (c.TryGetProperty("add_bos_token", out var ab) && ab.ValueKind is JsonValueKind.True or JsonValueKind.False) addBos = ab.GetBoolean();
                if (c.TryGetProperty("add_eos_token", out var ae) && ae.ValueKind is JsonValueKind.True or JsonValueKind.False) addEos = ae.GetBoolean();
            }
        }
        eosText ??= new[] { "</s>", "<|endoftext|>", "<|end_of_text|>" }.FirstOrDefault(tokenToId.ContainsKey);
        return (Lookup(bosText, "bos_token"), Lookup(eosText, "eos_token"), addBos, addEos);
    }

    private static string? TokenString(JsonElement config, string name)
    {
        if (!config.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            return content.GetString();
        return null;
    }

    private static string? Type(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static bool ContainsType(JsonElement e, string type) => FindAll(e).Any(x => Type(x) == type);

    // The element and, for Sequence containers, their members (one level deep, as in these files).
    private static IEnumerable<JsonElement> FindAll(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) yield break;
        yield return e;
        foreach (string list in new[] { "pretokenizers", "normalizers", "processors", "decoders" })
            if (e.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
                foreach (var item in items.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.Object) yield return item;
    }

    private static JsonElement Member(string path, JsonElement parent, string name, JsonValueKind kind, string field)
    {
        if (!parent.TryGetProperty(name, out var value)) throw Error(path, field, "is missing");
        if (value.ValueKind != kind) throw Error(path, field, $"must be a JSON {kind.ToString().ToLowerInvariant()}, found {value.ValueKind}");
        return value;
    }

    private static GgufFormatException Error(string path, string field, string problem) => new(path, field, -1, problem);
}
