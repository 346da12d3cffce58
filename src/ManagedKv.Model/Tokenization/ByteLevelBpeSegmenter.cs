using Microsoft.ML.Tokenizers;

namespace ManagedKv.Model.Tokenization;

/// <summary>
/// llama.cpp's byte-level BPE (<c>llm_tokenizer_bpe_session</c>) on top of Microsoft.ML.Tokenizers'
/// <see cref="BpeTokenizer"/>: words come from <see cref="LlamaCppPreTokenizer"/>, the library byte-encodes each
/// word and applies the merges by rank (leftmost pair on ties, as llama.cpp), and this class adds llama.cpp's
/// <c>ignore_merges</c> rule: a word that is itself a vocabulary entry becomes that token without merging.
/// </summary>
internal sealed class ByteLevelBpeSegmenter
{
    private readonly BpeTokenizer _bpe;
    private readonly LlamaCppPreTokenizer _preTokenizer;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly bool _ignoreMerges;

    /// <summary>Builds the library tokenizer over the vocabulary (byte-level spellings) and merges ("a b").</summary>
    public ByteLevelBpeSegmenter(Dictionary<string, int> tokenToId, IReadOnlyList<string> merges, LlamaCppPreTokenizer preTokenizer, bool ignoreMerges)
    {
        _tokenToId = tokenToId;
        _preTokenizer = preTokenizer;
        _ignoreMerges = ignoreMerges;
        // Special tokens are split off before text reaches this class (llama.cpp's tokenizer_st_partition), so the
        // library gets none; its pre-tokenizer is set so that the BpeTokenizer is also correct on its own.
        _bpe = BpeTokenizer.Create(new BpeOptions(tokenToId)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = preTokenizer,
        });
    }

    /// <summary>Tokenizes a raw text fragment and appends the ids.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        foreach (var (offset, length) in _preTokenizer.Split(text))
        {
            var word = text.Slice(offset, length);
            if (_ignoreMerges && _tokenToId.TryGetValue(ByteLevelEncoding.Encode(word), out int whole))
            {
                output.Add(whole);
                continue;
            }
            output.AddRange(_bpe.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
        }
    }
}
