using Google.Protobuf;
using ManagedKv.Gguf;
using Microsoft.ML.Tokenizers;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>
/// Why the SentencePiece path does not use Microsoft.ML.Tokenizers' <see cref="LlamaTokenizer"/>: built from the
/// same GGUF vocabulary (an in-memory SentencePiece ModelProto), the library agrees with llama.cpp except where
/// two equally scored pairs compete, which it resolves to the rightmost pair instead of the leftmost. If this
/// test starts failing after a library upgrade, the library may have been fixed and could take over again.
/// </summary>
[TestClass]
public sealed class LibrarySentencePieceTests
{
    [TestMethod]
    public void LibraryBreaksScoreTiesTheOtherWay()
    {
        using var gguf = GgufFile.Open(VocabTestVectors.GgufPath("llama-spm"));
        var library = LlamaTokenizer.Create(new MemoryStream(ModelProto(
            gguf.GetArray("tokenizer.ggml.tokens")!.ToStringArray(),
            gguf.GetArray("tokenizer.ggml.scores")!.ToSingleArray(),
            gguf.GetArray("tokenizer.ggml.token_type")!.ToInt32Array())), addBeginOfSentence: false, addEndOfSentence: false);

        var cases = VocabTestVectors.Cases("llama-spm");
        var differing = new List<int>();
        for (int i = 0; i < cases.Count; i++)
        {
            var (text, expected) = cases[i];
            // llama.cpp's input to the SPM step: dummy prefix, spaces escaped as U+2581.
            string escaped = "▁" + text.Replace(' ', '▁');
            int[] actual = text.Length == 0 ? [] : library.EncodeToIds(escaped, considerPreTokenization: false, considerNormalization: false).ToArray();
            if (!actual.AsSpan().SequenceEqual(expected)) differing.Add(i);
        }
        // Case 33 is "!!!!!!"; case 45 contains it.
        CollectionAssert.AreEqual(new[] { 33, 45 }, differing);
        Assert.AreEqual("!!!!!!", cases[33].Text);
        CollectionAssert.AreEqual(new[] { 1738, 6824, 21004 }, cases[33].Ids);                 // ▁! !! !!!  (llama.cpp)
        CollectionAssert.AreEqual(new[] { 1738, 21004, 6824 }, library.EncodeToIds("▁!!!!!!", false, false).ToArray());
        CollectionAssert.AreEqual(cases[33].Ids, VocabTestVectors.Tokenizer("llama-spm").Encode("!!!!!!", addSpecial: false));
    }

    // sentencepiece_model.proto: pieces = 1 {piece = 1, score = 2, type = 3}; trainer_spec = 2 {model_type = 3
    // (BPE = 2), byte_fallback = 35, unk/bos/eos/pad id = 40..43}; normalizer_spec = 3 {add_dummy_prefix = 3,
    // remove_extra_whitespaces = 4, escape_whitespaces = 5}. Normalization is switched off: the test escapes.
    private static byte[] ModelProto(string[] tokens, float[] scores, int[] types)
    {
        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        for (int i = 0; i < tokens.Length; i++)
        {
            Message(output, 1, o =>
            {
                o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                o.WriteString(tokens[i]);
                o.WriteTag(2, WireFormat.WireType.Fixed32);
                o.WriteFloat(scores[i]);
                o.WriteTag(3, WireFormat.WireType.Varint);
                o.WriteEnum(types[i]);
            });
        }
        Message(output, 2, o =>
        {
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteEnum(2);
            o.WriteTag(35, WireFormat.WireType.Varint);
            o.WriteBool(true);
            foreach (var (field, id) in new[] { (40, 0), (41, 1), (42, 2), (43, -1) })
            {
                o.WriteTag(field, WireFormat.WireType.Varint);
                o.WriteInt32(id);
            }
        });
        Message(output, 3, o =>
        {
            foreach (int field in new[] { 3, 4, 5 })
            {
                o.WriteTag(field, WireFormat.WireType.Varint);
                o.WriteBool(false);
            }
        });
        output.Flush();
        return stream.ToArray();
    }

    private static void Message(CodedOutputStream output, int field, Action<CodedOutputStream> write)
    {
        var stream = new MemoryStream();
        var inner = new CodedOutputStream(stream);
        write(inner);
        inner.Flush();
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(stream.ToArray()));
    }
}
