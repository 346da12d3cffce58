using System.Text.RegularExpressions;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>
/// llama.cpp's pre-tokenizer port against an independent oracle: the original Hugging Face regexes run
/// directly by .NET's regex engine (which, unlike std::regex, understands \p{…} and (?i:…)). llama.cpp's
/// hand-written GPT-2/Llama-3 matchers and its collapsed-text regexes are meant to agree with them.
/// </summary>
[TestClass]
public sealed class LlamaCppPreTokenizerTests
{
    private const string Gpt2Original = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string Llama3Original = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Adapted = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2Original = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static IEnumerable<string> Inputs() => VocabTestVectors.Cases("gpt-2").Select(c => c.Text).Concat(
    [
        "I'VE been 'Told' he'LL come; it's 12345678 km\u00A0away\u2003now",
        "tabs\t\tand\r\nCRLF\r\n\r\n  lines  \n",
        "Ünïcödé wörds, ½ ⅓ ² numbers, 中文字符 and emoji 🦙🦙!",
        "x  ",
        "'",
        " '",
        "a'b's",
    ]);

    [TestMethod]
    [DataRow(LlamaCppPreTokenizer.Gpt2Pattern, Gpt2Original)]
    [DataRow(LlamaCppPreTokenizer.Llama3Pattern, Llama3Original)]
    [DataRow(Qwen2Adapted, Qwen2Original)]
    public void SplitsLikeTheOriginalRegex(string llamaCppPattern, string original)
    {
        var splitter = new LlamaCppPreTokenizer([llamaCppPattern]);
        var oracle = new Regex(original, RegexOptions.CultureInvariant);
        foreach (string text in Inputs())
        {
            var expected = Words(text, oracle);
            var actual = splitter.Split(text).Select(w => text.Substring(w.Offset, w.Length)).ToArray();
            CollectionAssert.AreEqual(expected, actual, $"{VocabTestVectors.Show(text)}: [{string.Join("|", actual)}]");
        }
    }

    [TestMethod]
    public void RegexListsApplyInSequence()
    {
        // starcoder: "\p{N}" first isolates every digit, then GPT-2 splits the rest.
        var starcoder = new LlamaCppPreTokenizer(BpePreTokenizerType.Find("starcoder")!.Patterns);
        CollectionAssert.AreEqual(new[] { "abc", " ", "1", "2", "3", " def" }, Split(starcoder, "abc 123 def"));
        // falcon: punctuation runs first, three-digit groups last.
        var falcon = new LlamaCppPreTokenizer(BpePreTokenizerType.Find("falcon")!.Patterns);
        CollectionAssert.AreEqual(new[] { "a", "...", "b", " ", "123", "4" }, Split(falcon, "a...b 1234"));
    }

    [TestMethod]
    public void AstralCharacterClassesMatchWholeCodePoints()
    {
        // deepseek-llm's letter class lists Deseret (U+10400..U+1044F) and Adlam (U+1E900..U+1E943).
        var (regex, collapsed) = LlamaCppRegex.Get(BpePreTokenizerType.Find("deepseek-llm")!.Patterns[1]);
        Assert.IsFalse(collapsed);
        Assert.AreEqual(" \U00010400\U0001044Fab\U0001E900", regex.Match(" \U00010400\U0001044Fab\U0001E900\U0001E944").Value);
        Assert.AreEqual("\u1F7D", regex.Match("\u1F7D").Value);      // Greek omega with oxia, not its NFC form U+03CE
        Assert.IsFalse(regex.IsMatch("123"));
    }

    [TestMethod]
    public void EndAnchorMeansEndOfPiece()
    {
        // ECMAScript "$" does not match before a final newline; .NET's does unless rewritten.
        var (regex, _) = LlamaCppRegex.Get(@"\s+$");
        Assert.IsFalse(regex.IsMatch("a  \nb"));
        Assert.AreEqual("  \n", regex.Match("a  \n").Value);
        Assert.IsFalse(regex.Match("a  \nx").Success);
    }

    private static string[] Split(LlamaCppPreTokenizer splitter, string text) =>
        splitter.Split(text).Select(w => text.Substring(w.Offset, w.Length)).ToArray();

    // Hugging Face's Split(behavior: Isolated): matches and the gaps between them.
    private static string[] Words(string text, Regex regex)
    {
        var words = new List<string>();
        int previous = 0;
        foreach (Match m in regex.Matches(text))
        {
            if (m.Index > previous) words.Add(text[previous..m.Index]);
            words.Add(m.Value);
            previous = m.Index + m.Length;
        }
        if (previous < text.Length) words.Add(text[previous..]);
        return words.ToArray();
    }
}
