using System.Text;
using System.Text.RegularExpressions;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>
/// Filler text with a needle hidden in it, built as longctx_bench's passkey harness builds it (the one LagKV
/// evaluates with): words are <c>[^\s]+\s*</c> matches; the filler file is repeated until it holds enough words
/// and cut to exactly N; the needle goes in at word index int(N·depth); the two filler chunks (each stripped)
/// and the needle are joined with single spaces, followed by one more space.
/// </summary>
public static partial class Haystack
{
    [GeneratedRegex(@"[^\s]+\s*")]
    private static partial Regex Word();

    /// <summary>The words of <paramref name="text"/>, each with its trailing whitespace.</summary>
    public static IReadOnlyList<string> Words(string text) => Word().Matches(text).Select(m => m.Value).ToList();

    /// <summary>
    /// The filler repeated to <paramref name="words"/> words (the file's text cycled, then cut; a filler that does not end
    /// in whitespace is repeated as if it did, rather than gluing its last word to its first).
    /// </summary>
    /// <exception cref="ArgumentException">The filler has no words.</exception>
    public static IReadOnlyList<string> Background(string filler, int words)
    {
        var unit = Words(filler);
        if (unit.Count == 0) throw new ArgumentException("the filler text has no words");
        var result = new string[words];
        for (int i = 0; i < words; i++) result[i] = unit[i % unit.Count];
        return result;
    }

    /// <summary>Word index the needle is inserted at: int(words · depth).</summary>
    public static int InsertionIndex(int words, double depth) => (int)(words * depth);

    /// <summary>The content: filler words before the insertion point, the needle, the rest, joined by single spaces, plus a trailing space.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The depth is outside [0, 1].</exception>
    public static string Insert(IReadOnlyList<string> background, string needle, double depth)
    {
        if (!(depth >= 0 && depth <= 1)) throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth must be in [0, 1]");
        int at = InsertionIndex(background.Count, depth);
        return string.Join(' ', Chunk(background, 0, at), needle, Chunk(background, at, background.Count), "");
    }

    private static string Chunk(IReadOnlyList<string> words, int start, int end)
    {
        var text = new StringBuilder();
        for (int i = start; i < end; i++) text.Append(words[i]);
        return text.ToString().Trim();
    }
}
