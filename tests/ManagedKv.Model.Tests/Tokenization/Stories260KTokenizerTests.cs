using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ManagedKv.Model.Tokenization;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>
/// The stories260K SentencePiece tokenizer (shared by every model in testdata) against llama.cpp's recorded
/// token ids: the prompts of golden/stories260K.json, the perplexity text, and the generated continuations.
/// </summary>
[TestClass]
public sealed class Stories260KTokenizerTests
{
    private static ModelTokenizer Tokenizer => VocabTestVectors.Stories;

    [TestMethod]
    public void PromptsMatchLlamaCpp()
    {
        CollectionAssert.AreEqual(new[] { 1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421 },
            Tokenizer.Encode("Once upon a time, there was a little girl"));
        CollectionAssert.AreEqual(new[] { 1, 403 }, Tokenizer.Encode("Once"));
        CollectionAssert.AreEqual(new[] { 1 }, Tokenizer.Encode(""));
        CollectionAssert.AreEqual(Array.Empty<int>(), Tokenizer.Encode("", addSpecial: false));
        Assert.AreEqual("▁Once", Tokenizer.TokenText(403));
    }

    [TestMethod]
    public void GoldenPromptIdsMatch()
    {
        using var golden = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("golden", "stories260K.json")));
        var prompts = golden.RootElement.GetProperty("prompts").EnumerateArray().ToArray();
        Assert.AreEqual(4, prompts.Length);
        foreach (var prompt in prompts)
        {
            string text = prompt.GetProperty("text").GetString()!;
            int[] expected = prompt.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            // llama-debug tokenizes with parse_special = false, llama-completion with true; both gave these ids.
            CollectionAssert.AreEqual(expected, Tokenizer.Encode(text), prompt.GetProperty("id").GetString());
            CollectionAssert.AreEqual(expected, Tokenizer.Encode(text, parseSpecial: true), prompt.GetProperty("id").GetString());
        }
        Assert.AreEqual(201, prompts.Single(p => p.GetProperty("id").GetString() == "story").GetProperty("token_ids").GetArrayLength());
    }

    [TestMethod]
    public void Metadata()
    {
        Assert.AreEqual("llama", Tokenizer.Model);
        Assert.IsNull(Tokenizer.PreTokenizer);
        Assert.AreEqual(512, Tokenizer.VocabSize);
        Assert.AreEqual(1, Tokenizer.BosId);
        Assert.AreEqual(2, Tokenizer.EosId);
        Assert.AreEqual(0, Tokenizer.UnknownId);
        Assert.IsTrue(Tokenizer.AddBos);        // no add_bos_token key: SentencePiece default
        Assert.IsFalse(Tokenizer.AddEos);
        Assert.IsTrue(Tokenizer.IsEndOfGeneration(2));
        Assert.IsFalse(Tokenizer.IsEndOfGeneration(1));
        CollectionAssert.AreEquivalent(new[] { 2 }, Tokenizer.EndOfGenerationIds.ToArray());
    }

    /// <summary>
    /// llama-perplexity tokenizes the whole text (one trailing newline stripped) with BOS: 10,817 tokens, and the
    /// KL-divergence base file stores the first 2 × 256 of them verbatim.
    /// </summary>
    [TestMethod]
    public void PerplexityTextMatchesLlamaCpp()
    {
        string text = File.ReadAllText(TestData.Path("golden", "stories-text.txt"));
        Assert.IsTrue(text.EndsWith('\n'));
        int[] ids = Tokenizer.Encode(text[..^1]);
        Assert.AreEqual(10817, ids.Length);

        byte[] kld = File.ReadAllBytes(TestData.Path("golden", "stories260K-c256-chunks2.kld"));
        Assert.AreEqual("_logits_", Encoding.ASCII.GetString(kld, 0, 8));
        int nCtx = BitConverter.ToInt32(kld, 8), nChunk = BitConverter.ToInt32(kld, 16);
        int[] recorded = new int[nCtx * nChunk];
        Buffer.BlockCopy(kld, 20, recorded, 0, recorded.Length * 4);
        CollectionAssert.AreEqual(recorded, ids[..recorded.Length]);
        Assert.AreEqual(text[..^1], Tokenizer.Decode(ids, skipSpecial: true)[1..]);   // BOS dropped, dummy space kept
    }

    /// <summary>
    /// Every golden file's greedy continuations: streaming the generated tokens must give exactly the bytes
    /// llama.cpp recorded (text_hex; the random models emit byte tokens that are not valid UTF-8, which must
    /// come out as U+FFFD in the decoded text), and for stories260K the prompt plus continuation must equal
    /// llama-completion's stdout.
    /// </summary>
    [TestMethod]
    public void GreedyContinuationsDecodeToRecordedBytes()
    {
        var files = Directory.GetFiles(Path.Combine(TestData.Directory, "golden"), "*.json").Where(f => !f.EndsWith("perplexity.json", StringComparison.Ordinal)).ToArray();
        Assert.AreEqual(18, files.Length);
        int checkedRuns = 0;
        foreach (string file in files)
        {
            using var golden = JsonDocument.Parse(File.ReadAllBytes(file));
            var greedy = golden.RootElement.GetProperty("greedy");
            foreach (string mode in new[] { "natural", "ignore_eos" })
            {
                foreach (var run in new[] { greedy.GetProperty(mode), greedy.GetProperty(mode).GetProperty("f32_attention") })
                {
                    int[] ids = run.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    if (run.GetProperty("stopped_at_eog").GetBoolean())
                    {
                        Assert.IsTrue(Tokenizer.IsEndOfGeneration(ids[^1]));
                        ids = ids[..^1];
                    }
                    byte[] expected = Convert.FromHexString(run.GetProperty("text_hex").GetString()!);
                    CollectionAssert.AreEqual(expected, ids.SelectMany(Tokenizer.TokenBytes).ToArray(), $"{file} {mode}");

                    var stream = new StreamingDecoder(Tokenizer);
                    var sb = new StringBuilder();
                    foreach (int id in ids) sb.Append(stream.Append(id));
                    sb.Append(stream.Flush());
                    Assert.AreEqual(run.GetProperty("text").GetString(), sb.ToString(), $"{file} {mode}");
                    checkedRuns++;
                }
            }
        }
        Assert.AreEqual(18 * 4, checkedRuns);
    }

    [TestMethod]
    public void PromptAndContinuationEqualLlamaCompletionOutput()
    {
        using var golden = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("golden", "stories260K.json")));
        var natural = golden.RootElement.GetProperty("greedy").GetProperty("natural");
        int[] prompt = Tokenizer.Encode("Once upon a time, there was a little girl");
        int[] generated = natural.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        // llama-completion prints every prompt and generated piece with special tokens hidden.
        var stream = new StreamingDecoder(Tokenizer, skipSpecial: true);
        var output = new StringBuilder();
        foreach (int id in prompt.Concat(generated)) output.Append(stream.Append(id));
        output.Append(stream.Flush());
        string stdout = Encoding.UTF8.GetString(Convert.FromHexString(natural.GetProperty("llama_completion_stdout_hex").GetString()!));
        Assert.AreEqual(stdout.TrimEnd('\n'), output.ToString());
    }
}
