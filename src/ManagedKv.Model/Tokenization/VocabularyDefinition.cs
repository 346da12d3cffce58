namespace ManagedKv.Model.Tokenization;

/// <summary>
/// A tokenizer as stored in a file, before llama.cpp's loading rules (defaults, overrides, end-of-generation
/// detection) are applied: what <see cref="GgufVocabularyReader"/> and <see cref="HuggingFaceVocabularyReader"/>
/// produce and <see cref="ModelTokenizer"/> consumes. Field names follow the GGUF keys.
/// </summary>
internal sealed class VocabularyDefinition
{
    /// <summary>File the vocabulary came from (for error messages).</summary>
    public required string Source { get; init; }

    /// <summary><c>tokenizer.ggml.model</c>: "llama" (SentencePiece) or "gpt2" (byte-level BPE).</summary>
    public required string Model { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>, or null when absent.</summary>
    public string? Pre { get; init; }

    /// <summary><c>tokenizer.ggml.tokens</c>: token text by id.</summary>
    public required string[] Tokens { get; init; }

    /// <summary><c>tokenizer.ggml.scores</c> (same length as <see cref="Tokens"/>), or null.</summary>
    public float[]? Scores { get; init; }

    /// <summary><c>tokenizer.ggml.token_type</c> (same length as <see cref="Tokens"/>), or null.</summary>
    public int[]? TokenTypes { get; init; }

    /// <summary><c>tokenizer.ggml.merges</c> ("left right", by rank), or null.</summary>
    public string[]? Merges { get; init; }

    /// <summary>
    /// Special token ids that the file sets, keyed by their GGUF key (e.g. <c>tokenizer.ggml.bos_token_id</c>);
    /// a key that is absent, or holds llama.cpp's "none" value 0xFFFFFFFF, is not in the dictionary.
    /// </summary>
    public Dictionary<string, long> SpecialIds { get; init; } = new(StringComparer.Ordinal);

    /// <summary><c>tokenizer.ggml.add_bos_token</c>, or null when absent.</summary>
    public bool? AddBos { get; init; }

    /// <summary><c>tokenizer.ggml.add_eos_token</c>, or null when absent.</summary>
    public bool? AddEos { get; init; }

    /// <summary><c>tokenizer.ggml.add_space_prefix</c>, or null when absent.</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary><c>general.name</c> (llama.cpp keys Phi-3's strip attributes on it), or null.</summary>
    public string? GeneralName { get; init; }

    /// <summary>How error messages name the field behind a GGUF key (the source file's own spelling of it).</summary>
    public Func<string, string> FieldName { get; init; } = key => $"metadata[\"{key}\"]";
}
