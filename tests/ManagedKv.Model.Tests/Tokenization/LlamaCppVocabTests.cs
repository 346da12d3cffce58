using System.Text;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>
/// The 46 test cases of each of llama.cpp's seven vocabularies, tokenized with add_special = false and
/// parse_special = false, must give exactly the ids llama.cpp's test-tokenizer-0 expects.
/// </summary>
[TestClass]
public sealed class LlamaCppVocabTests
{
    [TestMethod]
    [DataRow("llama-spm")]
    [DataRow("phi-3")]
    [DataRow("gpt-2")]
    [DataRow("deepseek-coder")]
    [DataRow("deepseek-llm")]
    [DataRow("falcon")]
    [DataRow("starcoder")]
    public void EncodeMatchesLlamaCpp(string vocab)
    {
        var tokenizer = VocabTestVectors.Tokenizer(vocab);
        var cases = VocabTestVectors.Cases(vocab);
        Assert.AreEqual(46, cases.Count);
        var failures = new StringBuilder();
        int failed = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var (text, expected) = cases[i];
            int[] actual = tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
            if (!actual.AsSpan().SequenceEqual(expected))
            {
                failed++;
                failures.AppendLine($"case {i} {VocabTestVectors.Show(text)}")
                    .AppendLine($"  expected {VocabTestVectors.Show(expected)}")
                    .AppendLine($"  actual   {VocabTestVectors.Show(actual)}");
            }
        }
        Assert.AreEqual(0, failed, $"{vocab}: {failed} of {cases.Count} cases differ from llama.cpp:\n{failures}");
    }

    /// <summary>
    /// Round trip. The bytes of the pieces always give back the text exactly, except that SentencePiece
    /// vocabularies carry the dummy-prefix space, which llama.cpp's detokenizer drops from the first piece; so
    /// <see cref="ModelTokenizer.Decode"/> returns the original text. The exception is llama.cpp's clean_spaces
    /// step (gpt-2, falcon, starcoder), which removes the space before ?!., and in front of some contractions:
    /// there Decode must equal the text with that clean-up applied (checked against a hand-written rule below).
    /// </summary>
    [TestMethod]
    [DataRow("llama-spm", false)]
    [DataRow("phi-3", false)]
    [DataRow("gpt-2", true)]
    [DataRow("deepseek-coder", false)]
    [DataRow("deepseek-llm", false)]
    [DataRow("falcon", true)]
    [DataRow("starcoder", true)]
    public void DecodeRoundTrips(string vocab, bool cleanSpaces)
    {
        var tokenizer = VocabTestVectors.Tokenizer(vocab);
        bool spm = tokenizer.Model == "llama";
        var failures = new StringBuilder();
        foreach (var (text, ids) in VocabTestVectors.Cases(vocab))
        {
            byte[] pieces = ids.SelectMany(tokenizer.TokenBytes).ToArray();
            string expectedPieces = spm && text.Length > 0 ? " " + text : text;
            if (Encoding.UTF8.GetString(pieces) != expectedPieces)
                failures.AppendLine($"pieces of {VocabTestVectors.Show(text)} are {VocabTestVectors.Show(Encoding.UTF8.GetString(pieces))}");

            string expected = cleanSpaces ? CleanSpaces(text) : text;
            string decoded = tokenizer.Decode(ids);
            if (decoded != expected)
                failures.AppendLine($"decode of {VocabTestVectors.Show(text)} is {VocabTestVectors.Show(decoded)}, expected {VocabTestVectors.Show(expected)}");
        }
        Assert.AreEqual("", failures.ToString());
    }

    [TestMethod]
    [DataRow("llama-spm", "llama", "default", true, 1, 2, 32000)]
    [DataRow("phi-3", "llama", "default", true, 1, 32000, 32064)]
    [DataRow("gpt-2", "gpt2", "gpt-2", false, 50256, 50256, 50257)]
    [DataRow("deepseek-coder", "gpt2", "deepseek-coder", true, 32013, 32014, 32256)]
    [DataRow("deepseek-llm", "gpt2", "deepseek-llm", true, 100000, 100001, 102400)]
    [DataRow("falcon", "gpt2", "falcon", false, 11, 11, 65024)]
    [DataRow("starcoder", "gpt2", "starcoder", false, 0, 0, 49152)]
    public void MetadataMatchesLlamaCpp(string vocab, string model, string pre, bool addBos, int bos, int eos, int size)
    {
        var tokenizer = VocabTestVectors.Tokenizer(vocab);
        Assert.AreEqual(model, tokenizer.Model);
        Assert.AreEqual(pre, tokenizer.PreTokenizer);
        Assert.AreEqual(addBos, tokenizer.AddBos);
        Assert.IsFalse(tokenizer.AddEos);
        Assert.AreEqual(bos, tokenizer.BosId);
        Assert.AreEqual(eos, tokenizer.EosId);
        Assert.AreEqual(size, tokenizer.VocabSize);
        Assert.IsTrue(tokenizer.IsEndOfGeneration(eos));
    }

    // golden/README.md §9: "Hello world" with llama.cpp's default add_special = true.
    [TestMethod]
    [DataRow("llama-spm", new[] { 1, 15043, 3186 })]
    [DataRow("phi-3", new[] { 1, 15043, 3186 })]
    [DataRow("deepseek-coder", new[] { 32013, 17535, 1835 })]
    [DataRow("deepseek-llm", new[] { 100000, 17464, 1843 })]
    [DataRow("gpt-2", new[] { 15496, 995 })]
    [DataRow("falcon", new[] { 9856, 1079 })]
    [DataRow("starcoder", new[] { 8302, 5810 })]
    public void HelloWorldWithSpecialTokens(string vocab, int[] expected)
    {
        CollectionAssert.AreEqual(expected, VocabTestVectors.Tokenizer(vocab).Encode("Hello world"));
    }

    [TestMethod]
    public void ControlTokensAreTextUnlessParsed()
    {
        var gpt2 = VocabTestVectors.Tokenizer("gpt-2");
        CollectionAssert.AreEqual(new[] { 15496, 50256, 995 }, gpt2.Encode("Hello<|endoftext|> world", parseSpecial: true));
        int[] plain = gpt2.Encode("Hello<|endoftext|> world");
        CollectionAssert.DoesNotContain(plain, 50256);
        Assert.AreEqual("Hello<|endoftext|> world", gpt2.Decode(plain));
        Assert.AreEqual("Hello<|endoftext|> world", gpt2.Decode([15496, 50256, 995]));
        Assert.AreEqual("Hello world", gpt2.Decode([15496, 50256, 995], skipSpecial: true));

        var llama = VocabTestVectors.Tokenizer("llama-spm");
        // After a special token SentencePiece adds the dummy space prefix again: "<s>Hello" → <s> ▁Hello.
        CollectionAssert.AreEqual(new[] { 1, 15043 }, llama.Encode("<s>Hello", addSpecial: false, parseSpecial: true));
        Assert.AreEqual("<s> Hello", llama.Decode([1, 15043]));
        Assert.AreEqual(" Hello", llama.Decode([1, 15043], skipSpecial: true));
    }

    [TestMethod]
    public void Phi3SpecialTokensSwallowFollowingWhitespace()
    {
        // llama.cpp gives Phi-3's added tokens the RSTRIP attribute (by general.name); <|end|> is one of them.
        var phi3 = VocabTestVectors.Tokenizer("phi-3");
        int end = Enumerable.Range(0, phi3.VocabSize).Single(id => phi3.TokenText(id) == "<|end|>");
        Assert.IsTrue(phi3.Attributes(end).HasFlag(TokenAttributes.RStrip));
        Assert.IsTrue(phi3.IsEndOfGeneration(end));
        int[] ids = phi3.Encode("Hi<|end|>\n  there", addSpecial: false, parseSpecial: true);
        CollectionAssert.AreEqual(phi3.Encode("Hi", false).Append(end).Concat(phi3.Encode("there", false)).ToArray(), ids);
    }

    [TestMethod]
    public void LoneSurrogatesAreReplacementCharacters()
    {
        // A .NET string can hold half a surrogate pair; it is tokenized as U+FFFD (what UTF-8 conversion gives).
        foreach (string vocab in VocabTestVectors.Names)
        {
            var tokenizer = VocabTestVectors.Tokenizer(vocab);
            CollectionAssert.AreEqual(tokenizer.Encode("\uFFFDab\uFFFD", false), tokenizer.Encode("\uD800ab\uDC00", false), vocab);
            Assert.AreEqual("\uFFFDab\uFFFD", tokenizer.Decode(tokenizer.Encode("\uD800ab\uDC00", false)), vocab);
        }
    }

    [TestMethod]
    public void LargeVocabularyBuilds()
    {
        // deepseek-llm: 102,400 tokens and 99,757 merges (speed is measured by benchmarks, not asserted here).
        using var file = ManagedKv.Gguf.GgufFile.Open(VocabTestVectors.GgufPath("deepseek-llm"));
        var tokenizer = ModelTokenizer.FromGguf(file);
        Assert.AreEqual(102400, tokenizer.VocabSize);
        CollectionAssert.AreEqual(new[] { 100000, 17464, 1843 }, tokenizer.Encode("Hello world"));
    }

    // llama.cpp's clean_spaces, written independently of SpaceCleaner for the round-trip check: drop the space
    // before ? ! . , ; drop both spaces around an apostrophe standing alone; drop the space before 's 'm 're 've.
    private static string CleanSpaces(string text)
    {
        var b = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == ' ' && i + 1 < text.Length && text[i + 1] is '?' or '!' or '.' or ',') continue;
            b.Append(text[i]);
        }
        string s = b.ToString().Replace(" ' ", "'", StringComparison.Ordinal);
        foreach (string c in new[] { "s", "m", "re", "ve" })
            s = s.Replace(" '" + c, "'" + c, StringComparison.Ordinal);
        return s;
    }
}
