using ManagedKv.Gguf;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>Bad tokenizer metadata is a <see cref="GgufFormatException"/> that names the offending key.</summary>
[TestClass]
public sealed class TokenizerValidationTests
{
    private static readonly string[] SpmTokens = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab", "▁ab"];

    private static TestGguf Spm() => new TestGguf()
        .String("tokenizer.ggml.model", "llama")
        .Strings("tokenizer.ggml.tokens", SpmTokens)
        .Floats("tokenizer.ggml.scores", [0, 0, 0, -1, -2, -3, -4, -5, -6])
        .Ints("tokenizer.ggml.token_type", [2, 3, 3, 1, 1, 1, 1, 1, 1]);

    // Byte-level: the single characters a, b, Ġ and their merges.
    private static TestGguf Bpe() => new TestGguf()
        .String("tokenizer.ggml.model", "gpt2")
        .String("tokenizer.ggml.pre", "gpt-2")
        .Strings("tokenizer.ggml.tokens", ["a", "b", "Ġ", "ab", "Ġa", "<|endoftext|>"])
        .Ints("tokenizer.ggml.token_type", [1, 1, 1, 1, 1, 3])
        .Strings("tokenizer.ggml.merges", ["Ġ a", "a b"])
        .UInt32("tokenizer.ggml.bos_token_id", 5)
        .UInt32("tokenizer.ggml.eos_token_id", 5);

    [TestMethod]
    public void MinimalVocabulariesLoadAndTokenize()
    {
        using (var file = Spm().Open())
        {
            var spm = ModelTokenizer.FromGguf(file);
            CollectionAssert.AreEqual(new[] { 1, 8, 6 }, spm.Encode("ab a"));        // <s> ▁ab ▁a
            Assert.AreEqual("ab a", spm.Decode([8, 6]));
            // No byte-fallback tokens in this vocabulary: an unknown character becomes <unk>.
            CollectionAssert.AreEqual(new[] { 3, 0 }, spm.Encode("c", addSpecial: false));
        }
        using (var file = Bpe().Open())
        {
            var bpe = ModelTokenizer.FromGguf(file);
            // " ab": "Ġ a" has the better rank, so Ġa + b, not Ġ + ab
            CollectionAssert.AreEqual(new[] { 3, 4, 1 }, bpe.Encode("ab ab"));
            Assert.IsFalse(bpe.AddBos);
            Assert.AreEqual("ab ab", bpe.Decode([3, 4, 1]));
        }
    }

    [TestMethod]
    public void NoneIdIsAccepted()
    {
        // stories260K writes 0xFFFFFFFF for "no separator/padding token"; llama.cpp treats it as unset.
        using var file = Spm().UInt32("tokenizer.ggml.padding_token_id", 0xFFFFFFFF).UInt32("tokenizer.ggml.seperator_token_id", 0xFFFFFFFF).Open();
        Assert.AreEqual(9, ModelTokenizer.FromGguf(file).VocabSize);
    }

    [TestMethod]
    public void MissingModelKey() => Expect(Spm().Without("tokenizer.ggml.model"), "tokenizer.ggml.model");

    [TestMethod]
    [DataRow("bert")]
    [DataRow("t5")]
    [DataRow("rwkv")]
    public void UnsupportedModel(string model) => Expect(Spm().String("tokenizer.ggml.model", model), "tokenizer.ggml.model", model);

    [TestMethod]
    public void MissingTokens() => Expect(Spm().Without("tokenizer.ggml.tokens"), "tokenizer.ggml.tokens");

    [TestMethod]
    public void EmptyVocabulary() => Expect(Spm().Strings("tokenizer.ggml.tokens", []).Floats("tokenizer.ggml.scores", []).Ints("tokenizer.ggml.token_type", []), "tokenizer.ggml.tokens");

    [TestMethod]
    public void TokensOfWrongType() => Expect(Spm().Ints("tokenizer.ggml.tokens", [1, 2, 3]), "tokenizer.ggml.tokens");

    [TestMethod]
    public void ScoresLengthMismatch() => Expect(Spm().Floats("tokenizer.ggml.scores", [0, 0, 0]), "tokenizer.ggml.scores", "3 entries for 9 tokens");

    [TestMethod]
    public void TokenTypeLengthMismatch() => Expect(Spm().Ints("tokenizer.ggml.token_type", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), "tokenizer.ggml.token_type", "10 entries for 9 tokens");

    [TestMethod]
    public void ScoresOfWrongType() => Expect(Spm().Strings("tokenizer.ggml.scores", SpmTokens), "tokenizer.ggml.scores");

    [TestMethod]
    public void DuplicateToken() => Expect(Spm().Strings("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab", "a"]), "tokenizer.ggml.tokens", "duplicate token \"a\" at ids 4 and 8");

    [TestMethod]
    [DataRow("tokenizer.ggml.bos_token_id")]
    [DataRow("tokenizer.ggml.eos_token_id")]
    [DataRow("tokenizer.ggml.unknown_token_id")]
    [DataRow("tokenizer.ggml.padding_token_id")]
    [DataRow("tokenizer.ggml.eot_token_id")]
    public void SpecialIdOutsideVocabulary(string key) => Expect(Spm().UInt32(key, 9), key, "outside the vocabulary");

    [TestMethod]
    public void SpecialIdOfWrongType() => Expect(Spm().String("tokenizer.ggml.bos_token_id", "1"), "tokenizer.ggml.bos_token_id");

    [TestMethod]
    public void AddBosWithoutBos()
    {
        // Six tokens: the byte-level default BOS id 11 does not exist, so add_bos_token = true cannot be honoured.
        Expect(Bpe().Without("tokenizer.ggml.bos_token_id").Bool("tokenizer.ggml.add_bos_token", true), "tokenizer.ggml.add_bos_token");
    }

    [TestMethod]
    public void UnknownPreTokenizer() => Expect(Bpe().String("tokenizer.ggml.pre", "no-such-pre"), "tokenizer.ggml.pre", "no-such-pre");

    [TestMethod]
    public void BpeWithoutMerges() => Expect(Bpe().Without("tokenizer.ggml.merges"), "tokenizer.ggml.merges");

    [TestMethod]
    public void MalformedMerge() => Expect(Bpe().Strings("tokenizer.ggml.merges", ["Ġ a", "ab"]), "tokenizer.ggml.merges", "entry 1");

    [TestMethod]
    public void AddBosOverride()
    {
        using var file = Spm().Bool("tokenizer.ggml.add_bos_token", false).Bool("tokenizer.ggml.add_eos_token", true).Open();
        var tokenizer = ModelTokenizer.FromGguf(file);
        CollectionAssert.AreEqual(new[] { 8, 2 }, tokenizer.Encode("ab"));
        Assert.AreEqual("ab", tokenizer.Decode([8, 2], skipSpecial: true));
    }

    [TestMethod]
    public void OutOfRangeIdsAreArgumentErrors()
    {
        var tokenizer = VocabTestVectors.Stories;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tokenizer.Decode([512]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tokenizer.TokenBytes(512));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => tokenizer.TokenText(-1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new StreamingDecoder(tokenizer).Append(600));
        Assert.IsFalse(tokenizer.IsEndOfGeneration(-1));
    }

    private static void Expect(TestGguf gguf, string key, string? problemPart = null)
    {
        using var file = gguf.Open("bad.gguf");
        var e = Assert.ThrowsExactly<GgufFormatException>(() => ModelTokenizer.FromGguf(file));
        Assert.AreEqual("bad.gguf", e.FileName);
        StringAssert.Contains(e.Field, key);
        if (problemPart is not null) StringAssert.Contains(e.Message, problemPart);
    }
}
