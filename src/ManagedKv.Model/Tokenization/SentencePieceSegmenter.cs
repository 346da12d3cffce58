namespace ManagedKv.Model.Tokenization;

/// <summary>
/// llama.cpp's SPM tokenizer (<c>llm_tokenizer_spm_session</c>): start from one symbol per code point, repeatedly
/// merge the adjacent pair whose concatenation is the highest-scoring vocabulary entry (ties: leftmost pair),
/// then emit each symbol's token, or its UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens when it is not in the vocabulary.
/// </summary>
/// <remarks>
/// This is implemented here rather than with Microsoft.ML.Tokenizers' <c>LlamaTokenizer</c> because that class
/// (2.0.1, <c>SentencePieceBpeModel.SymbolPair.CompareTo</c>) breaks score ties towards the <em>rightmost</em>
/// pair while SentencePiece and llama.cpp take the leftmost. Ties happen whenever a piece repeats, e.g. "!!!!!!"
/// in the Llama 2 vocabulary: llama.cpp gives "▁!" "!!" "!!!" (1738 6824 21004), the library "▁!" "!!!" "!!"
/// (1738 21004 6824). The tie order is internal to the library, so it cannot be corrected from outside.
/// </remarks>
internal sealed class SentencePieceSegmenter
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly float[] _scores;
    private readonly int[] _byteTokens;      // [256] id of <0xXX> (or the one-byte token), -1 if none
    private readonly int _unknownId;

    /// <summary>Creates the segmenter over a vocabulary (token text → id), its scores and byte tokens.</summary>
    public SentencePieceSegmenter(Dictionary<string, int> tokenToId, float[] scores, int unknownId)
    {
        _lookup = tokenToId.GetAlternateLookup<ReadOnlySpan<char>>();
        _scores = scores;
        _unknownId = unknownId;
        _byteTokens = new int[256];
        for (int b = 0; b < 256; b++)
        {
            // llama_vocab::byte_to_token: "<0xXX>" first, then the byte itself as a one-character token.
            if (tokenToId.TryGetValue($"<0x{b:X2}>", out int id) || (b < 0x80 && tokenToId.TryGetValue(((char)b).ToString(), out id)))
                _byteTokens[b] = id;
            else
                _byteTokens[b] = -1;
        }
    }

    /// <summary>Tokenizes already-escaped text (spaces as U+2581) and appends the ids.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        if (text.IsEmpty) return;

        var symbols = new Symbol[text.Length];
        int count = 0;
        for (int u = 0; u < text.Length;)
        {
            int len = char.IsHighSurrogate(text[u]) && u + 1 < text.Length && char.IsLowSurrogate(text[u + 1]) ? 2 : 1;
            symbols[count] = new Symbol { Prev = count - 1, Next = u + len == text.Length ? -1 : count + 1, Start = u, Length = len };
            count++;
            u += len;
        }

        var queue = new PriorityQueue<Bigram, (float Score, int Left)>(count, BigramOrder.Instance);
        for (int i = 1; i < count; i++) TryAddBigram(text, symbols, queue, i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            ref var left = ref symbols[bigram.Left];
            ref var right = ref symbols[bigram.Right];
            // Skip pairs made stale by an earlier merge.
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length) continue;

            left.Length += right.Length;
            right.Length = 0;
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Prev = bigram.Left;

            TryAddBigram(text, symbols, queue, left.Prev, bigram.Left);
            TryAddBigram(text, symbols, queue, bigram.Left, left.Next);
        }

        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i != -1; i = symbols[i].Next)
        {
            var piece = text.Slice(symbols[i].Start, symbols[i].Length);
            if (_lookup.TryGetValue(piece, out int id))
            {
                output.Add(id);
                continue;
            }
            // Merged symbols are always vocabulary entries, so only single code points get here: emit their
            // UTF-8 bytes. llama.cpp aborts when a byte has no token; this port emits <unk> (or nothing) instead.
            int n = System.Text.Encoding.UTF8.GetBytes(piece, utf8);
            for (int b = 0; b < n; b++)
            {
                int byteId = _byteTokens[utf8[b]];
                if (byteId >= 0) output.Add(byteId);
                else if (_unknownId >= 0) output.Add(_unknownId);
            }
        }
    }

    private void TryAddBigram(ReadOnlySpan<char> text, Symbol[] symbols, PriorityQueue<Bigram, (float, int)> queue, int left, int right)
    {
        if (left == -1 || right == -1) return;
        int length = symbols[left].Length + symbols[right].Length;
        if (!_lookup.TryGetValue(text.Slice(symbols[left].Start, length), out int id)) return;
        queue.Enqueue(new Bigram(left, right, length), (_scores[id], left));
    }

    private struct Symbol
    {
        public int Prev, Next, Start, Length;   // Start/Length in UTF-16 units; Length 0 = merged away
    }

    private readonly record struct Bigram(int Left, int Right, int Length);

    /// <summary>llama.cpp's <c>llm_bigram_spm::comparator</c>: higher score first, then the leftmost pair.</summary>
    private sealed class BigramOrder : IComparer<(float Score, int Left)>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare((float Score, int Left) x, (float Score, int Left) y)
        {
            if (x.Score != y.Score) return x.Score > y.Score ? -1 : 1;
            return x.Left.CompareTo(y.Left);
        }
    }
}
