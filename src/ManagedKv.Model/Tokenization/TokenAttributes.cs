namespace ManagedKv.Model.Tokenization;

/// <summary>
/// Per-token attributes, bit for bit llama.cpp's <c>llama_token_attr</c>. GGUF stores a token type
/// (<c>tokenizer.ggml.token_type</c>: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) that
/// maps to exactly one of these; loading then adds bits (control for end-of-turn texts, strip flags for Phi-3).
/// </summary>
[Flags]
public enum TokenAttributes
{
    /// <summary>No attribute.</summary>
    None = 0,

    /// <summary>Type 0 or an unknown type value.</summary>
    Undefined = 1 << 0,

    /// <summary>The unknown token (&lt;unk&gt;).</summary>
    Unknown = 1 << 1,

    /// <summary>Reserved, never produced.</summary>
    Unused = 1 << 2,

    /// <summary>An ordinary vocabulary piece.</summary>
    Normal = 1 << 3,

    /// <summary>A control token (BOS, EOS, chat markers); only matched in text when parsing specials.</summary>
    Control = 1 << 4,

    /// <summary>A user-defined (added) token; always matched in text as a whole.</summary>
    UserDefined = 1 << 5,

    /// <summary>A byte-fallback token &lt;0xXX&gt;.</summary>
    Byte = 1 << 6,

    /// <summary>Normalize the text before matching (not used by these tokenizers).</summary>
    Normalized = 1 << 7,

    /// <summary>Whitespace before this special token is removed when it is matched in text.</summary>
    LStrip = 1 << 8,

    /// <summary>Whitespace after this special token is removed when it is matched in text.</summary>
    RStrip = 1 << 9,

    /// <summary>Match only as a whole word (not used by these tokenizers).</summary>
    SingleWord = 1 << 10,
}
