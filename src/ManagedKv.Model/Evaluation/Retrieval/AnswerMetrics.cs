using System.Text;
using System.Text.RegularExpressions;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>
/// The passkey harness's answer metrics (longctx_bench <c>eval_metrics.py</c>, as LagKV's evaluation uses them):
/// exact match on normalised text, and partial match as the longest common substring over the answer's length.
/// </summary>
public static partial class AnswerMetrics
{
    // Python's string.punctuation: the 32 ASCII punctuation characters.
    private const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();

    /// <summary>
    /// SQuAD-style normalisation: lowercase, remove ASCII punctuation, remove the articles a/an/the (as whole
    /// words), collapse runs of whitespace to one space and trim.
    /// </summary>
    public static string Normalize(string text)
    {
        var kept = new StringBuilder(text.Length);
        foreach (char ch in text.ToLowerInvariant())
            if (!Punctuation.Contains(ch)) kept.Append(ch);
        string noArticles = Articles().Replace(kept.ToString(), "");
        return string.Join(' ', noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Whether the normalised <paramref name="answer"/> occurs in the normalised <paramref name="response"/>.</summary>
    public static bool ExactMatch(string answer, string response) =>
        Normalize(response).Contains(Normalize(answer), StringComparison.Ordinal);

    /// <summary>
    /// Length of the longest common substring of the raw <paramref name="answer"/> and <paramref name="response"/>
    /// divided by the answer's length: difflib's <c>SequenceMatcher(None, answer, response, autojunk=False)
    /// .find_longest_match(...).size / len(answer)</c> (with no junk, that match is a longest common substring).
    /// </summary>
    /// <exception cref="ArgumentException">The answer is empty.</exception>
    public static double PartialMatch(string answer, string response)
    {
        if (answer.Length == 0) throw new ArgumentException("the answer is empty", nameof(answer));
        return (double)LongestCommonSubstring(answer, response) / answer.Length;
    }

    /// <summary>Length of the longest string that occurs contiguously in both <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static int LongestCommonSubstring(string a, string b)
    {
        // run[j] = length of the common run ending at a[i−1], b[j−1]; one row suffices when j goes downwards.
        var run = new int[b.Length + 1];
        int best = 0;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = b.Length; j >= 1; j--)
            {
                run[j] = a[i - 1] == b[j - 1] ? run[j - 1] + 1 : 0;
                best = Math.Max(best, run[j]);
            }
        }
        return best;
    }
}
