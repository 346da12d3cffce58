using ManagedKv.Model.Evaluation.Retrieval;

namespace ManagedKv.Model.Tests.Evaluation;

/// <summary>The passkey metrics against values worked out by hand from longctx_bench's eval_metrics.py definitions.</summary>
[TestClass]
public sealed class AnswerMetricsTests
{
    [TestMethod]
    // lower → "the pass-key, is: a 123!"; punctuation out → "the passkey is a 123"; articles out → " passkey is  123";
    // whitespace collapsed → "passkey is 123".
    [DataRow("The Pass-Key, is: A 123!", "passkey is 123")]
    // Articles go only as whole words: "theater" and "another" stay.
    [DataRow("The theater had another AN", "theater had another")]
    [DataRow("  tabs\tand\nnewlines  ", "tabs and newlines")]
    [DataRow("", "")]
    public void NormalizeLowercasesStripsPunctuationArticlesAndSpaces(string text, string expected) =>
        Assert.AreEqual(expected, AnswerMetrics.Normalize(text));

    [TestMethod]
    [DataRow("12345", "The pass key is 12345. Remember it.", true)]
    [DataRow("12345", "it is 12,345", true)]       // the comma is punctuation: "it is 12345" contains "12345"
    [DataRow("12345", "1234 5", false)]            // whitespace is kept (collapsed), so "1234 5" ≠ "12345"
    [DataRow("The Answer", "answer!", true)]       // both normalise to "answer"
    [DataRow("12345", "", false)]
    public void ExactMatchIsSubstringOfNormalisedResponse(string answer, string response, bool expected) =>
        Assert.AreEqual(expected, AnswerMetrics.ExactMatch(answer, response));

    [TestMethod]
    // difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size / len(a):
    [DataRow("12345", "The pass key is 12345.", 1.0)]   // the whole answer occurs: 5/5
    [DataRow("12345", "1234 and 2345", 0.8)]            // longest block "1234" (or "2345"): 4/5
    [DataRow("abcde", "xxbcdyy", 0.6)]                  // "bcd": 3/5
    [DataRow("12345", "54321", 0.2)]                    // no two characters in order: any single digit, 1/5
    [DataRow("12345", "", 0.0)]                         // nothing in common
    [DataRow("1212", "x121x", 0.75)]                    // "121": 3/4
    public void PartialMatchIsLongestCommonSubstringOverAnswerLength(string answer, string response, double expected) =>
        Assert.AreEqual(expected, AnswerMetrics.PartialMatch(answer, response), 1e-15);

    [TestMethod]
    public void PartialMatchIsCaseAndPunctuationSensitiveLikeDifflib()
    {
        // partial match uses the raw strings: "ABC" vs "abc" share nothing.
        Assert.AreEqual(0.0, AnswerMetrics.PartialMatch("ABC", "abc"));
        Assert.AreEqual(3, AnswerMetrics.LongestCommonSubstring("xabcx", "yyabc"));
        Assert.ThrowsExactly<ArgumentException>(() => AnswerMetrics.PartialMatch("", "x"));
    }
}
