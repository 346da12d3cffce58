using System.Buffers;
using System.Text;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// The tokenizer of a model, built from GGUF metadata (or a Hugging Face <c>tokenizer.json</c>) and matching
/// llama.cpp's <c>llama_tokenize</c> / <c>llama_detokenize</c> id for id and byte for byte.
/// <list type="bullet">
/// <item><c>tokenizer.ggml.model = "llama"</c>: SentencePiece-style BPE over scores with byte fallback
/// (<see cref="SentencePieceSegmenter"/>), a dummy space prefix before the text and after each special token, and
/// spaces escaped as U+2581.</item>
/// <item><c>"gpt2"</c>: byte-level BPE over merges with Microsoft.ML.Tokenizers'
/// <see cref="Microsoft.ML.Tokenizers.BpeTokenizer"/>, words split by llama.cpp's pre-tokenizer for
/// <c>tokenizer.ggml.pre</c> (<see cref="LlamaCppPreTokenizer"/>).</item>
/// </list>
/// Special tokens are split off first as llama.cpp does (<see cref="SpecialTokenPartitioner"/>). Instances are
/// immutable and thread-safe; build one per model and reuse it (construction indexes the whole vocabulary).
/// </summary>
public sealed class ModelTokenizer
{
    internal const string ModelKey = "tokenizer.ggml.model";
    internal const string PreKey = "tokenizer.ggml.pre";
    internal const string TokensKey = "tokenizer.ggml.tokens";
    internal const string ScoresKey = "tokenizer.ggml.scores";
    internal const string TokenTypeKey = "tokenizer.ggml.token_type";
    internal const string MergesKey = "tokenizer.ggml.merges";
    internal const string BosKey = "tokenizer.ggml.bos_token_id";
    internal const string EosKey = "tokenizer.ggml.eos_token_id";
    internal const string UnknownKey = "tokenizer.ggml.unknown_token_id";
    internal const string AddBosKey = "tokenizer.ggml.add_bos_token";
    internal const string AddEosKey = "tokenizer.ggml.add_eos_token";

    // Texts llama.cpp uses to find end-of-turn and end-of-generation tokens (llama_vocab::impl::load).
    private static readonly HashSet<string> EotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];

    private static readonly HashSet<string> EogTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ];

    private static readonly (string Key, string[] Texts)[] FimTexts =
    [
        ("tokenizer.ggml.fim_pre_token_id", ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"]),
        ("tokenizer.ggml.fim_suf_token_id", ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"]),
        ("tokenizer.ggml.fim_mid_token_id", ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"]),
        ("tokenizer.ggml.fim_pad_token_id", ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]),
        ("tokenizer.ggml.fim_rep_token_id", ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]),
        ("tokenizer.ggml.fim_sep_token_id", ["<|file_sep|>"]),
    ];

    private readonly string[] _texts;
    private readonly TokenAttributes[] _attributes;
    private readonly byte[][] _pieces;              // [VocabSize] token_to_piece(special: true)
    private readonly int[] _specialTokens;          // control/user-defined/unknown ids, longest text first
    private readonly HashSet<int> _endOfGeneration;
    private readonly SentencePieceSegmenter? _spm;
    private readonly ByteLevelBpeSegmenter? _bpe;
    private readonly bool _addSpacePrefix;
    private readonly bool _cleanSpaces;

    private ModelTokenizer(VocabularyDefinition v)
    {
        int n = v.Tokens.Length;
        if (n == 0) throw Error(v, TokensKey, "the vocabulary is empty");
        Model = v.Model;
        PreTokenizer = v.Pre;
        bool spm = v.Model switch
        {
            "llama" => true,
            "gpt2" => false,
            _ => throw Error(v, ModelKey, $"unsupported tokenizer model \"{v.Model}\"; supported: \"llama\" (SentencePiece) and \"gpt2\" (byte-level BPE)"),
        };
        if (v.Scores is not null && v.Scores.Length != n) throw Error(v, ScoresKey, $"has {v.Scores.Length} entries for {n} tokens");
        if (v.TokenTypes is not null && v.TokenTypes.Length != n) throw Error(v, TokenTypeKey, $"has {v.TokenTypes.Length} entries for {n} tokens");

        _texts = new string[n];
        var tokenToId = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            string text = v.Tokens[i].Length == 0 ? $"[EMPTY_{i}]" : v.Tokens[i];      // llama.cpp's placeholder
            if (!tokenToId.TryAdd(text, i))
                throw Error(v, TokensKey, $"duplicate token \"{text}\" at ids {tokenToId[text]} and {i}");
            _texts[i] = text;
        }
        _attributes = new TokenAttributes[n];
        for (int i = 0; i < n; i++)
        {
            _attributes[i] = v.TokenTypes is null ? TokenAttributes.Normal : v.TokenTypes[i] switch
            {
                1 => TokenAttributes.Normal,
                2 => TokenAttributes.Unknown,
                3 => TokenAttributes.Control,
                4 => TokenAttributes.UserDefined,
                5 => TokenAttributes.Unused,
                6 => TokenAttributes.Byte,
                _ => TokenAttributes.Undefined,
            };
        }

        // Defaults per vocabulary type, then the file's overrides (llama_vocab::impl::load).
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        BpePreTokenizerType? pre = null;
        if (spm)
        {
            ids[BosKey] = 1;
            ids[EosKey] = 2;
            ids[UnknownKey] = 0;
            _addSpacePrefix = true;
            _cleanSpaces = false;
            AddBos = true;
        }
        else
        {
            pre = BpePreTokenizerType.Find(v.Pre) ?? throw Error(v, PreKey, $"unknown pre-tokenizer type \"{v.Pre}\"");
            ids[BosKey] = pre.NoBos ? -1 : 11;
            ids[EosKey] = 11;
            _addSpacePrefix = false;
            _cleanSpaces = pre.CleanSpaces;
            AddBos = pre.AddBos;
        }
        _addSpacePrefix = v.AddSpacePrefix ?? _addSpacePrefix;
        foreach (var key in ids.Keys.ToArray())
            if (ids[key] >= n) ids[key] = -1;       // a default outside a small vocabulary is disabled
        foreach (string key in GgufVocabularyReader.SpecialIdKeys)
        {
            if (!v.SpecialIds.TryGetValue(key, out long id)) continue;
            if (id < 0 || id >= n) throw Error(v, key, $"token id {id} is outside the vocabulary ({n} tokens)");
            ids[CanonicalKey(key)] = (int)id;
        }
        AddBos = v.AddBos ?? AddBos;
        AddEos = v.AddEos ?? false;
        BosId = ids.GetValueOrDefault(BosKey, -1);
        EosId = ids.GetValueOrDefault(EosKey, -1);
        UnknownId = ids.GetValueOrDefault(UnknownKey, -1);
        if (AddBos && BosId < 0) throw Error(v, AddBosKey, "is true but the vocabulary has no BOS token");
        if (AddEos && EosId < 0) throw Error(v, AddEosKey, "is true but the vocabulary has no EOS token");

        _endOfGeneration = DetectEndOfGeneration(ids);
        ApplyModelSpecificAttributes(v, tokenToId);

        _specialTokens = Enumerable.Range(0, n)
            .Where(id => (_attributes[id] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
            .OrderByDescending(id => Encoding.UTF8.GetByteCount(_texts[id]))      // llama.cpp sorts by byte length
            .ThenBy(id => id)
            .ToArray();

        _pieces = new byte[n][];
        for (int id = 0; id < n; id++) _pieces[id] = RenderPiece(id, spm);

        if (spm)
        {
            _spm = new SentencePieceSegmenter(tokenToId, v.Scores ?? new float[n], UnknownId);
        }
        else
        {
            string[] merges = v.Merges ?? throw Error(v, MergesKey, "is missing (a \"gpt2\" vocabulary needs merges)");
            for (int i = 0; i < merges.Length; i++)
                if (merges[i].IndexOf(' ', 1 < merges[i].Length ? 1 : 0) < 1)
                    throw Error(v, MergesKey, $"entry {i} (\"{merges[i]}\") is not two tokens separated by a space");
            var preTokenizer = new LlamaCppPreTokenizer(pre!.Patterns);
            try
            {
                _bpe = new ByteLevelBpeSegmenter(tokenToId, merges, preTokenizer, pre.IgnoreMerges);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or KeyNotFoundException)
            {
                throw Error(v, MergesKey, $"rejected by the BPE builder: {e.Message}", e);
            }
        }
    }

    /// <summary>"llama" (SentencePiece) or "gpt2" (byte-level BPE).</summary>
    public string Model { get; }

    /// <summary><c>tokenizer.ggml.pre</c> as stored (null when absent).</summary>
    public string? PreTokenizer { get; }

    /// <summary>Number of tokens in the vocabulary.</summary>
    public int VocabSize => _texts.Length;

    /// <summary>The beginning-of-sequence token, or -1 when the vocabulary has none.</summary>
    public int BosId { get; }

    /// <summary>The end-of-sequence token, or -1 when the vocabulary has none.</summary>
    public int EosId { get; }

    /// <summary>The unknown token, or -1 when the vocabulary has none.</summary>
    public int UnknownId { get; }

    /// <summary>Whether <see cref="Encode"/> with addSpecial puts BOS first (llama.cpp's <c>add_bos</c>).</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode"/> with addSpecial puts EOS last (llama.cpp's <c>add_eos</c>).</summary>
    public bool AddEos { get; }

    /// <summary>The ids that end generation (EOS, EOT, EOM, FIM pad/repo/separator and the end-of-turn texts).</summary>
    public IReadOnlyCollection<int> EndOfGenerationIds => _endOfGeneration;

    /// <summary>Builds the tokenizer from a GGUF file's <c>tokenizer.ggml.*</c> metadata.</summary>
    /// <exception cref="GgufFormatException">The metadata is missing, malformed or of an unsupported kind; the
    /// message names the key.</exception>
    public static ModelTokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new ModelTokenizer(GgufVocabularyReader.Read(file));
    }

    /// <summary>
    /// Builds the tokenizer from a Hugging Face <c>tokenizer.json</c> holding a BPE model: byte-level BPE
    /// (GPT-2, Llama 3, Qwen2, SmolLM pre-tokenizers) or SentencePiece-style BPE with byte fallback (Llama 2,
    /// Mistral). A <c>tokenizer_config.json</c> next to it, when present, supplies BOS/EOS and their add flags.
    /// </summary>
    /// <exception cref="GgufFormatException">The file is malformed or of an unsupported kind; the message names
    /// the JSON field.</exception>
    public static ModelTokenizer FromHuggingFace(string tokenizerJsonPath)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        return new ModelTokenizer(HuggingFaceVocabularyReader.Read(tokenizerJsonPath));
    }

    /// <summary>
    /// Tokenizes <paramref name="text"/> like <c>llama_tokenize</c>.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecial">Add BOS (and EOS) as the model's <see cref="AddBos"/>/<see cref="AddEos"/> say.</param>
    /// <param name="parseSpecial">Recognise control tokens written in the text (user-defined tokens are always
    /// recognised).</param>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = ReplaceLoneSurrogates(text);
        var output = new List<int>(text.Length / 3 + 2);
        if (addSpecial && AddBos) output.Add(BosId);

        var fragments = SpecialTokenPartitioner.Partition(text, _specialTokens, _texts, _attributes, parseSpecial);
        bool previousIsSpecial = true;      // SPM: the first fragment and those after a special token get " "
        foreach (var fragment in fragments)
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.TokenId);
                previousIsSpecial = true;
                continue;
            }
            var raw = text.AsSpan(fragment.Offset, fragment.Length);
            if (_spm is not null)
            {
                EncodeSentencePiece(_spm, raw, _addSpacePrefix && previousIsSpecial, output);
                previousIsSpecial = false;
            }
            else
            {
                _bpe!.Encode(raw, output);
            }
        }

        if (addSpecial && AddEos) output.Add(EosId);
        return output.ToArray();
    }

    /// <summary>
    /// Detokenizes like <c>llama_detokenize</c>: pieces are concatenated as bytes, the leading space that
    /// SentencePiece's dummy prefix produced is removed from the first piece, byte-level vocabularies with
    /// <c>clean_spaces</c> get llama.cpp's clean-up, and the bytes are decoded as UTF-8 (invalid sequences become
    /// U+FFFD).
    /// </summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecial">llama.cpp's <c>remove_special</c> + <c>!unparse_special</c>: drop a leading BOS
    /// / trailing EOS that the model adds and render control and unknown tokens as nothing. When false they are
    /// rendered as their text.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        bool removeSpace = _addSpacePrefix;
        if (skipSpecial && AddBos && ids.Length > 0 && ids[0] == BosId)
        {
            removeSpace = false;
            ids = ids[1..];
        }
        if (skipSpecial && AddEos && ids.Length > 0 && ids[^1] == EosId) ids = ids[..^1];

        int total = 0;
        foreach (int id in ids) total += Piece(id).Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(total, 1));
        try
        {
            int length = 0;
            foreach (int id in ids)
            {
                ReadOnlySpan<byte> piece = skipSpecial && (_attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0 ? [] : _pieces[id];
                if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
                removeSpace = false;
                piece.CopyTo(buffer.AsSpan(length));
                length += piece.Length;
            }
            if (_cleanSpaces) length = SpaceCleaner.Clean(buffer.AsSpan(0, length));
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The raw bytes of one token as llama.cpp's <c>token_to_piece</c> gives them (special tokens as their
    /// text, byte-fallback tokens as their single byte, which may be part of a UTF-8 sequence spread over
    /// several tokens; see <see cref="StreamingDecoder"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public byte[] TokenBytes(int id) => Piece(id).ToArray();

    /// <summary>The token's vocabulary text as stored (e.g. "▁Once", "Ġworld", "&lt;0x0A&gt;").</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string TokenText(int id)
    {
        CheckId(id);
        return _texts[id];
    }

    /// <summary>The token's attributes after loading (type plus llama.cpp's adjustments).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public TokenAttributes Attributes(int id)
    {
        CheckId(id);
        return _attributes[id];
    }

    /// <summary>Whether generating <paramref name="id"/> ends generation (llama.cpp's <c>llama_vocab_is_eog</c>).</summary>
    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    /// <summary>The cached piece bytes of a token (no copy).</summary>
    internal ReadOnlySpan<byte> Piece(int id)
    {
        CheckId(id);
        return _pieces[id];
    }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id is outside the vocabulary (0..{_texts.Length - 1})");
    }

    // llama.cpp reads UTF-8, where half a surrogate pair cannot occur; it stands for U+FFFD (as in UTF-8 conversion).
    private static string ReplaceLoneSurrogates(string text)
    {
        int bad = -1;
        for (int i = 0; i < text.Length && bad < 0; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) bad = i;
        }
        if (bad < 0) return text;
        var chars = text.ToCharArray();
        for (int i = bad; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    // llama_escape_whitespace plus the dummy prefix (' ' becomes U+2581), then the SPM merge.
    private static void EncodeSentencePiece(SentencePieceSegmenter spm, ReadOnlySpan<char> raw, bool prefix, List<int> output)
    {
        int offset = prefix ? 1 : 0;
        char[] buffer = ArrayPool<char>.Shared.Rent(raw.Length + offset);
        try
        {
            buffer[0] = '\u2581';
            for (int i = 0; i < raw.Length; i++) buffer[offset + i] = raw[i] == ' ' ? '\u2581' : raw[i];
            spm.Encode(buffer.AsSpan(0, raw.Length + offset), output);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    // The deprecated prefix/suffix/middle keys are aliases of the FIM keys.
    private static string CanonicalKey(string key) => key switch
    {
        "tokenizer.ggml.prefix_token_id" => "tokenizer.ggml.fim_pre_token_id",
        "tokenizer.ggml.suffix_token_id" => "tokenizer.ggml.fim_suf_token_id",
        "tokenizer.ggml.middle_token_id" => "tokenizer.ggml.fim_mid_token_id",
        _ => key,
    };

    // llama.cpp's text-based detection of EOT/EOM/FIM tokens and its end-of-generation set. Tokens found by text
    // become CONTROL. (llama.cpp walks an unordered_map; ascending ids are used here, which only matters when a
    // vocabulary holds two different EOT texts, and then only for which one is called "the" EOT.)
    private HashSet<int> DetectEndOfGeneration(Dictionary<string, int> ids)
    {
        int eot = ids.GetValueOrDefault("tokenizer.ggml.eot_token_id", -1);
        int eom = ids.GetValueOrDefault("tokenizer.ggml.eom_token_id", -1);
        var fim = FimTexts.ToDictionary(f => f.Key, f => ids.GetValueOrDefault(f.Key, -1));
        for (int id = 0; id < _texts.Length; id++)
        {
            string text = _texts[id];
            if (eot < 0 && EotTexts.Contains(text)) eot = MarkControl(id);
            if (eom < 0 && text == "<|eom_id|>") eom = MarkControl(id);
            foreach (var (key, texts) in FimTexts)
                if (fim[key] < 0 && texts.Contains(text)) fim[key] = MarkControl(id);
        }
        for (int id = 0; id < _texts.Length; id++)
            if ((_attributes[id] & TokenAttributes.Control) != 0 && _texts[id].Contains("unused", StringComparison.Ordinal))
                _attributes[id] |= TokenAttributes.Unused;

        var eog = new HashSet<int>();
        foreach (string key in new[] { "tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id" })
            if (fim[key] >= 0) eog.Add(fim[key]);
        for (int id = 0; id < _texts.Length; id++)
        {
            if (EogTexts.Contains(_texts[id])) eog.Add(MarkControl(id));
            // gpt-oss: these markers must always be rendered
            if (_texts[id] is "<|channel|>" or "<|message|>" or "<|start|>" or "<|constrain|>") _attributes[id] = TokenAttributes.UserDefined;
        }
        foreach (int id in new[] { EosId, eot, eom })
            if (id >= 0) eog.Add(id);

        // o200k_harmony / solar-open: "<|end|>" is not end-of-generation when "<|return|>" and "<|call|>" exist.
        int end = eog.FirstOrDefault(id => _texts[id] == "<|end|>", -1);
        bool Has(string t) => eog.Any(id => _texts[id] == t);
        if (end >= 0 && ((Has("<|return|>") && Has("<|call|>")) || (Has("<|calls|>") && Has("<|flush|>"))))
        {
            eog.Remove(end);
            _attributes[end] = TokenAttributes.UserDefined;
        }
        // gemma4 / paddleocr: "</s>" is not end-of-generation when "<|tool_response>" exists.
        int closeS = eog.FirstOrDefault(id => _texts[id] == "</s>", -1);
        if (closeS >= 0 && Has("<|tool_response>"))
        {
            eog.Remove(closeS);
            _attributes[closeS] = TokenAttributes.Normal;
        }
        return eog;
    }

    private int MarkControl(int id)
    {
        _attributes[id] |= TokenAttributes.Control;
        return id;
    }

    // llama.cpp sets strip attributes by model name / pre-tokenizer, since GGUF has no field for them.
    private void ApplyModelSpecificAttributes(VocabularyDefinition v, Dictionary<string, int> ids)
    {
        string pre = v.Pre ?? "";
        string name = (v.GeneralName ?? "").ToLowerInvariant();
        int TokenToId(string text) => ids.GetValueOrDefault(text, -1);
        if (pre.Contains("jina-v2-de", StringComparison.Ordinal) || pre.Contains("jina-v2-es", StringComparison.Ordinal) || pre.Contains("jina-v2-code", StringComparison.Ordinal))
        {
            int mask = TokenToId("<mask>");
            if (mask >= 0) _attributes[mask] |= TokenAttributes.LStrip;
        }
        else if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            for (int id = 0; id < _texts.Length; id++)
                if ((_attributes[id] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
                    _attributes[id] |= TokenAttributes.RStrip;
            int closeS = TokenToId("</s>");
            if (closeS >= 0) _attributes[closeS] |= TokenAttributes.RStrip;
            foreach (string text in new[] { "<unk>", "<s>", "<|endoftext|>" })
            {
                int id = TokenToId(text);
                if (id >= 0) _attributes[id] &= ~TokenAttributes.RStrip;
            }
        }
    }

    // llama.cpp's token_to_piece with special = true (its cache_token_to_piece).
    private byte[] RenderPiece(int id, bool spm)
    {
        var attr = _attributes[id];
        string text = _texts[id];
        if ((attr & (TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined)) != 0)
            return Encoding.UTF8.GetBytes(text);
        if ((attr & TokenAttributes.Normal) != 0)
            return spm ? Encoding.UTF8.GetBytes(text.Replace('\u2581', ' ')) : DecodeByteLevel(text);
        if (spm && (attr & TokenAttributes.Byte) != 0)
            return text.Length == 6 && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b) ? [b] : [];
        return [];
    }

    // llama_decode_text: every character maps back to its byte; unmapped ones become "[UNK_BYTE_0x…]".
    private static byte[] DecodeByteLevel(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsBmp && ByteLevelEncoding.TryDecode((char)rune.Value, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            int n = rune.EncodeToUtf8(utf8);
            bytes.AddRange(Encoding.UTF8.GetBytes("[UNK_BYTE_0x"));
            for (int i = 0; i < n; i++) bytes.AddRange(Encoding.UTF8.GetBytes(utf8[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
            bytes.AddRange(Encoding.UTF8.GetBytes(text + "]"));
        }
        return bytes.ToArray();
    }

    private static GgufFormatException Error(VocabularyDefinition v, string key, string problem, Exception? inner = null) =>
        new(v.Source, v.FieldName(key), -1, problem, inner);
}
