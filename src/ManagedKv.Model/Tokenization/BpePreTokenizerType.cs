namespace ManagedKv.Model.Tokenization;

/// <summary>
/// What llama.cpp derives from <c>tokenizer.ggml.pre</c> for a byte-level BPE vocabulary
/// (<c>llama_vocab::impl::load</c> and <c>llm_tokenizer_bpe</c>): the regex list of the pre-tokenizer and the
/// flags that come with it.
/// </summary>
/// <param name="Patterns">llama.cpp's regexes, applied in order (see <see cref="LlamaCppPreTokenizer"/>).</param>
/// <param name="CleanSpaces">Whether detokenizing applies llama.cpp's <c>clean_spaces</c> passes.</param>
/// <param name="IgnoreMerges">Whether a word that is itself a token skips BPE merging (Llama 3, Tekken).</param>
/// <param name="AddBos">The add-BOS default (before <c>tokenizer.ggml.add_bos_token</c>).</param>
/// <param name="NoBos">Whether the type has no BOS token by default (ChatGLM).</param>
internal sealed record BpePreTokenizerType(IReadOnlyList<string> Patterns, bool CleanSpaces, bool IgnoreMerges = false, bool AddBos = false, bool NoBos = false)
{
    // Regex lists copied from llama.cpp src/llama-vocab.cpp (llm_tokenizer_bpe). C++ "\\p{L}" is @"\p{L}" here;
    // C++ "[\r\n]" holds real CR/LF characters, and so does the C# "[\r\n]".
    private static readonly string[] Default =
    [
        @"[\p{P}\$\+<=>\^~\|]+",
        LlamaCppPreTokenizer.Gpt2Pattern,
        @"\p{N}+",
        "[0-9][0-9][0-9]",
    ];

    private static readonly string[] Llama3 = [LlamaCppPreTokenizer.Llama3Pattern];

    private static readonly string[] DeepSeekLlm =
    [
        "[\r\n]",
        // Written with \u escapes where NFC would silently replace the character (U+1F7D, U+1FBE, U+1FD3,
        // U+1FDB, U+2126, U+212A are canonical singletons); the source range "Ὗ-\u1F7D" is not "Ὗ-ώ".
        "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
        @"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        @"\s+$",
        "[一-龥ࠀ-一가-퟿]+",
        @"\p{N}+",
    ];

    private static readonly string[] DeepSeek3Llm =
    [
        @"\p{N}{1,3}",
        "[一-龥぀-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ];

    private static readonly string[] DeepSeekCoder =
    [
        "[\r\n]",
        @"\s?\p{L}+",
        @"\s?\p{P}+",
        "[一-龥ࠀ-一가-퟿]+",
        @"\p{N}",
    ];

    private static readonly string[] Falcon =
    [
        @"[\p{P}\$\+<=>\^~\|`]+",
        LlamaCppPreTokenizer.Gpt2Pattern,
        "[0-9][0-9][0-9]",
    ];

    private static readonly string[] StarCoder = [@"\p{N}", LlamaCppPreTokenizer.Gpt2Pattern];

    private static readonly string[] Gpt2 = [LlamaCppPreTokenizer.Gpt2Pattern];

    private static readonly string[] Qwen2 =
    [
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    private static readonly string[] Poro = [@" ?[^(\s|.,!?…。，、।۔،)]+"];

    private static readonly string[] Viking = [@" ?[^(\s|.,!?…。，、।۔،)]+", @"\p{N}"];

    private static readonly string[] Tekken =
    [
        @"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    private static readonly string[] Chameleon =
    [
        "<sentinel:[0-9]+>",
        "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
        @"([\t\n]|    |  )",
        @"\p{N}",
        @"[\p{P}!-/:-@\[-`{-~]",
        LlamaCppPreTokenizer.Gpt2Pattern,
    ];

    private static readonly string[] Gpt4o =
    [
        @"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    /// <summary>
    /// The type for a <c>tokenizer.ggml.pre</c> value (null or empty: llama.cpp's "default", with its warning
    /// about degraded quality), or null when llama.cpp (and therefore this port) does not know the name.
    /// </summary>
    public static BpePreTokenizerType? Find(string? name) => name switch
    {
        null or "" or "default" => new(Default, CleanSpaces: true),
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2"
            => new(Llama3, CleanSpaces: true, IgnoreMerges: true, AddBos: true),
        "dbrx" or "smaug-bpe" => new(Llama3, CleanSpaces: true),
        "chatglm-bpe" or "glm4" => new(Llama3, CleanSpaces: true, NoBos: true),
        "deepseek-llm" => new(DeepSeekLlm, CleanSpaces: false),
        "deepseek-coder" => new(DeepSeekCoder, CleanSpaces: false),
        "deepseek-v3" => new(DeepSeek3Llm, CleanSpaces: false),
        "falcon" => new(Falcon, CleanSpaces: true),
        "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" => new(StarCoder, CleanSpaces: true),
        "command-r" or "smollm" => new(StarCoder, CleanSpaces: false),
        "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v1-en" or "jina-v2-es" or "jina-v2-de"
            or "jina-v2-code" or "roberta-bpe" or "mpt" or "olmo" or "jais" or "exaone4" or "a.x-4.0" or "mellum"
            or "modern-bert" => new(Gpt2, CleanSpaces: true),
        "trillion" or "granite-docling" => new(Gpt2, CleanSpaces: false),
        "qwen2" or "deepseek-r1-qwen" or "kormo" => new(Qwen2, CleanSpaces: false),
        "stablelm2" or "megrez" => new(Qwen2, CleanSpaces: true),
        "poro-chat" => new(Poro, CleanSpaces: false),
        "bloom" or "gpt3-finnish" => new(Poro, CleanSpaces: true),
        "viking" => new(Viking, CleanSpaces: false),
        "tekken" => new(Tekken, CleanSpaces: false, IgnoreMerges: true, AddBos: true),
        "chameleon" => new(Chameleon, CleanSpaces: false, AddBos: true),
        "gpt-4o" or "llama4" => new(Gpt4o, CleanSpaces: false),
        _ => null,
    };
}
