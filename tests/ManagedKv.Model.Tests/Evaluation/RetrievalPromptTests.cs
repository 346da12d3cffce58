using ManagedKv.Model.Evaluation.Retrieval;

namespace ManagedKv.Model.Tests.Evaluation;

/// <summary>Passkey/needle prompts built as longctx_bench builds them (LagKV's evaluation), and the grid.</summary>
[TestClass]
public sealed class RetrievalPromptTests
{
    private const string Prefix = "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there.\n";
    private const string Suffix = "\nWhat is the pass key? The pass key is ";

    [TestMethod]
    public void SmallPasskeyPromptIsExactlyTheHarnessString()
    {
        var task = RetrievalTask.Passkey(5);
        // 3 words "The ", "grass ", "is "; depth 0.5 → insertion at int(3·0.5) = 1; chunks "The" and "grass is" (stripped),
        // joined with the needle by single spaces plus the trailing "" element's space.
        string expected = Prefix + "The The pass key is 12345. Remember it. 12345 is the pass key. grass is " + Suffix;
        Assert.AreEqual(expected, task.Prompt(3, 0.5, "12345"));
        // Depth 0: the first chunk is empty, so the content starts with a space; depth 1: the last chunk is empty.
        Assert.AreEqual(Prefix + " The pass key is 1. Remember it. 1 is the pass key. The grass is " + Suffix, task.Prompt(3, 0, "1"));
        Assert.AreEqual(Prefix + "The grass is The pass key is 1. Remember it. 1 is the pass key.  " + Suffix, task.Prompt(3, 1, "1"));
    }

    [TestMethod]
    [DataRow(100, 0.0)]
    [DataRow(100, 0.33)]
    [DataRow(137, 0.5)]
    [DataRow(137, 1.0)]
    public void PromptHasNFillerWordsAndTheNeedleAtWordIndexNTimesDepth(int words, double depth)
    {
        var task = RetrievalTask.Passkey(64);
        string key = task.Key(7, words, depth, 0);
        string prompt = task.Prompt(words, depth, key);
        Assert.IsTrue(prompt.StartsWith(Prefix, StringComparison.Ordinal));
        Assert.IsTrue(prompt.EndsWith(Suffix, StringComparison.Ordinal));
        string content = prompt[Prefix.Length..^Suffix.Length];
        string needle = $"The pass key is {key}. Remember it. {key} is the pass key.";
        int at = content.IndexOf(needle, StringComparison.Ordinal);
        Assert.IsTrue(at >= 0);
        var before = Haystack.Words(content[..at]);
        var after = Haystack.Words(content[(at + needle.Length)..]);
        Assert.AreEqual((int)(words * depth), before.Count);
        Assert.AreEqual(words, before.Count + after.Count);
        // The filler cycles the 19-word grass/sky/sun line: word 19 starts the second repetition.
        var all = Haystack.Background(RetrievalTask.GrassSkySun, words);
        Assert.AreEqual("again.\n", all[18]);
        Assert.AreEqual("The ", all[19]);
    }

    [TestMethod]
    public void KeysAreSeededDigitsIndependentOfOtherCells()
    {
        var task = RetrievalTask.Passkey(64);
        string a = task.Key(0, 512, 0.25, 0);
        Assert.AreEqual(64, a.Length);
        Assert.IsTrue(a.All(char.IsAsciiDigit));
        Assert.AreEqual(a, task.Key(0, 512, 0.25, 0));
        Assert.AreNotEqual(a, task.Key(0, 512, 0.25, 1));
        Assert.AreNotEqual(a, task.Key(1, 512, 0.25, 0));
        Assert.AreNotEqual(a, task.Key(0, 513, 0.25, 0));
        // Over many keys every digit appears with roughly equal frequency (10 000 digits: each 1000 ± 150).
        var counts = new int[10];
        for (int s = 0; s < 10_000 / 64 + 1; s++) foreach (char c in task.Key(3, 100, 0.5, s)) counts[c - '0']++;
        Assert.IsTrue(counts.All(n => Math.Abs(n - counts.Average()) < 150), string.Join(",", counts));
    }

    [TestMethod]
    public void NeedleTaskValidatesItsTemplate()
    {
        var needle = RetrievalTask.Needle();
        Assert.AreEqual("The special magic number is 42.", needle.NeedleTemplate.Replace(RetrievalTask.KeyPlaceholder, "42"));
        Assert.AreEqual(7, needle.Digits);
        Assert.ThrowsExactly<ArgumentException>(() => RetrievalTask.Needle("no placeholder here"));
        Assert.ThrowsExactly<ArgumentException>(() => RetrievalTask.Needle(filler: "   "));
    }

    [TestMethod]
    public void GridValuesFollowTheHarnessSpacing()
    {
        // longctx_bench's 20480words_10x10x3 config: lengths 512…20480 in 10 steps, truncated to int.
        CollectionAssert.AreEqual(new[] { 512, 2730, 4949, 7168, 9386, 11605, 13824, 16042, 18261, 20480 },
            RetrievalGrid.SpacedLengths(512, 20480, 10).ToArray());
        CollectionAssert.AreEqual(new[] { 0, 0.25, 0.5, 0.75, 1 }, RetrievalGrid.Spaced(0, 1, 5).ToArray());
        CollectionAssert.AreEqual(new[] { 1.0 }, RetrievalGrid.Spaced(0, 1, 1).ToArray());
    }

    [TestMethod]
    public void MaxWordsLeavesRoomForTheAnswerAtEveryDepth()
    {
        // A made-up tokenizer: 10 tokens of instruction + 2 per word, one more at depth 1. Context 100, 10 reserved:
        // depth 0 fits 2w + 10 ≤ 90 → w ≤ 40; depth 1 needs 2w + 11 ≤ 90 → w ≤ 39.
        Assert.AreEqual(40, RetrievalGrid.MaxWords((w, d) => 10 + 2 * w, [0.0], 100, 10));
        Assert.AreEqual(39, RetrievalGrid.MaxWords((w, d) => 10 + 2 * w + (d == 1 ? 1 : 0), [0.0, 1.0], 100, 10));
        Assert.AreEqual(0, RetrievalGrid.MaxWords((w, d) => 95 + w, [0.0], 100, 10));
    }
}
