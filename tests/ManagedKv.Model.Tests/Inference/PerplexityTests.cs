using System.Text.Json;
using ManagedKv.Model.Evaluation;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Inference;

/// <summary>
/// stories260K perplexity on golden/stories-text.txt against llama-perplexity's running values (f32-cache run).
/// The scalar oracle is slow, so it is checked on the first chunks; the CPU backend test covers the whole text.
/// </summary>
[TestClass]
public sealed class PerplexityTests
{
    [TestMethod]
    [DataRow(128, 6)]
    [DataRow(256, 3)]
    public void ReferenceBackendMatchesLlamaPerplexityRunningValues(int nCtx, int chunks)
    {
        var expected = RunningValues(nCtx);
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        var tokenizer = source.CreateTokenizer();
        int[] tokens = tokenizer.Encode(StoriesText(), addSpecial: true);
        Assert.AreEqual(10817, tokens.Length, "llama.cpp tokenises the text (one trailing newline stripped) to 10817 tokens");

        using var backend = new ReferenceBackend();
        using var model = new Transformer(source, backend, maxBatch: nCtx);
        var result = Perplexity.Evaluate(model, tokens, nCtx, tokenizer.BosId, maxChunks: chunks);
        for (int c = 0; c < chunks; c++)
        {
            // llama.cpp prints running values with 4 decimals; allow that rounding plus 0.1% relative.
            double tolerance = 5e-5 + 1e-3 * expected[c];
            Assert.AreEqual(expected[c], result.RunningValues[c], tolerance, $"running PPL after chunk {c + 1} at n_ctx {nCtx}");
        }
    }

    /// <summary>The text as llama-perplexity reads it with -f: one trailing newline stripped.</summary>
    public static string StoriesText()
    {
        string text = File.ReadAllText(TestData.Path("golden", "stories-text.txt"));
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    /// <summary>llama-perplexity's running values for the f32-cache run at <paramref name="nCtx"/>.</summary>
    public static double[] RunningValues(int nCtx, bool f32Cache = true)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("golden", "perplexity.json")));
        var run = doc.RootElement.GetProperty("runs").EnumerateArray()
            .First(r => r.GetProperty("n_ctx").GetInt32() == nCtx && r.GetProperty("command").GetString()!.Contains("-ctk f32") == f32Cache);
        return run.GetProperty("running_ppl_after_each_chunk").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    /// <summary>llama-perplexity's final value for the f32-cache run.</summary>
    public static double FinalValue(int nCtx)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("golden", "perplexity.json")));
        return doc.RootElement.GetProperty("runs").EnumerateArray()
            .First(r => r.GetProperty("n_ctx").GetInt32() == nCtx && r.GetProperty("command").GetString()!.Contains("-ctk f32"))
            .GetProperty("final_ppl").GetDouble();
    }
}
