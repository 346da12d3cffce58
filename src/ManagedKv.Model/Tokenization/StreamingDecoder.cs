using System.Text;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// Turns generated tokens into text one token at a time. A UTF-8 character may be spread over several
/// byte-fallback (or byte-level) tokens; the bytes of an incomplete character are held back until the rest
/// arrives, so every string returned is whole characters. Pieces are rendered as llama.cpp prints them while
/// generating (<c>common_token_to_piece</c>): no leading-space removal, special tokens as their text unless
/// <c>skipSpecial</c> is set. Not thread-safe: use one per output stream.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly ModelTokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Creates a decoder for <paramref name="tokenizer"/>'s tokens.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="skipSpecial">Render control and unknown tokens as nothing.</param>
    public StreamingDecoder(ModelTokenizer tokenizer, bool skipSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
    }

    /// <summary>Adds one token and returns the text it completes (empty while a character is still partial).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string Append(int id)
    {
        ReadOnlySpan<byte> piece = _tokenizer.Piece(id);
        if (_skipSpecial && (_tokenizer.Attributes(id) & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) piece = [];
        return Convert(piece, flush: false);
    }

    /// <summary>Ends the stream: held-back bytes of an unfinished character come out as U+FFFD.</summary>
    public string Flush() => Convert([], flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        // Up to three held-back bytes can come out with this call, as one character or as U+FFFD each.
        int max = bytes.Length + 4;
        if (max > _chars.Length) _chars = new char[Math.Max(max, _chars.Length * 2)];
        int written = _utf8.GetChars(bytes, _chars, flush);
        return written == 0 ? "" : new string(_chars, 0, written);
    }
}
