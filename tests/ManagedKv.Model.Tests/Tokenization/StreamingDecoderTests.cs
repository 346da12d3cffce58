using System.Text;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Model.Tests.Tokenization;

[TestClass]
public sealed class StreamingDecoderTests
{
    [TestMethod]
    public void ByteFallbackTokensCombineIntoOneCharacter()
    {
        var llama = VocabTestVectors.Tokenizer("llama-spm");
        // llama.cpp: "🦙" is the dummy-prefix ▁ followed by the byte tokens <0xF0> <0x9F> <0xA6> <0x99>.
        int[] ids = llama.Encode("🦙", addSpecial: false);
        CollectionAssert.AreEqual(new[] { 29871, 243, 162, 169, 156 }, ids);
        CollectionAssert.AreEqual(new byte[] { 0xF0 }, llama.TokenBytes(243));
        Assert.AreEqual("<0xF0>", llama.TokenText(243));
        Assert.AreEqual(TokenAttributes.Byte, llama.Attributes(243));

        var stream = new StreamingDecoder(llama);
        string[] outputs = ids.Select(stream.Append).ToArray();
        CollectionAssert.AreEqual(new[] { " ", "", "", "", "🦙" }, outputs);
        Assert.AreEqual("", stream.Flush());
    }

    [TestMethod]
    public void ByteLevelTokensSplitInsideACharacter()
    {
        // GPT-2 spells "€" (E2 82 AC) with byte-level tokens; each token's bytes are streamed as they come.
        var gpt2 = VocabTestVectors.Tokenizer("gpt-2");
        int[] ids = gpt2.Encode("price: 5€ ok", addSpecial: false);
        var stream = new StreamingDecoder(gpt2);
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            string part = stream.Append(id);
            Assert.IsFalse(part.Contains('\uFFFD'), "a partial character must be held back, not replaced");
            text.Append(part);
        }
        Assert.AreEqual("price: 5€ ok", text.Append(stream.Flush()).ToString());
    }

    [TestMethod]
    public void IncompleteCharacterIsReplacedOnFlush()
    {
        var llama = VocabTestVectors.Tokenizer("llama-spm");
        var stream = new StreamingDecoder(llama);
        Assert.AreEqual("", stream.Append(243));     // <0xF0>: first byte of a four-byte sequence
        Assert.AreEqual("", stream.Append(162));     // <0x9F>
        Assert.AreEqual("\uFFFD", stream.Flush());
        Assert.AreEqual("a", stream.Append(llama.Encode("a", false)[^1]).TrimStart());
    }

    [TestMethod]
    public void SpecialTokensCanBeHidden()
    {
        var stories = VocabTestVectors.Stories;
        var visible = new StreamingDecoder(stories);
        var hidden = new StreamingDecoder(stories, skipSpecial: true);
        Assert.AreEqual("<s>", visible.Append(1));
        Assert.AreEqual("", hidden.Append(1));
        Assert.AreEqual(" Once", visible.Append(403));
        Assert.AreEqual(" Once", hidden.Append(403));
    }
}
