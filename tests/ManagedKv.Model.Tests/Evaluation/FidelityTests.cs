using ManagedKv.Model.Compression;
using ManagedKv.Model.Evaluation;
using ManagedKv.Model.Evaluation.Fidelity;
using ManagedKv.Model.Evaluation.Results;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.Model.Tests.Inference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Evaluation;

/// <summary>
/// Fidelity on stories260K (reference backend): lossless settings give KL exactly 0 and full top-1 agreement, the
/// full cache's perplexity equals <see cref="Perplexity"/>'s for the same windows, and a real press drifts.
/// </summary>
[TestClass]
public sealed class FidelityTests
{
    // Windows of 128 tokens with context 65 score exactly the predictions llama-perplexity scores in a 128-token chunk.
    private static readonly FidelityOptions Options = new() { ContextTokens = 65, ContinuationTokens = 63, MaxWindows = 2 };

    private static (ModelSource Source, ReferenceBackend Backend, Transformer Model, IReadOnlyList<int[]> Windows, int[] Tokens) Open()
    {
        var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        var tokenizer = source.CreateTokenizer();
        int[] tokens = tokenizer.Encode(PerplexityTests.StoriesText(), addSpecial: true);
        var backend = new ReferenceBackend();
        var model = new Transformer(source, backend, maxBatch: 128);
        return (source, backend, model, TextWindows.Cut(tokens, Options.WindowTokens, tokenizer.BosId, Options.MaxWindows), tokens);
    }

    [TestMethod]
    public void CompressionZeroIsLosslessAndFullPerplexityEqualsPerplexityEvaluate()
    {
        var (source, backend, model, windows, tokens) = Open();
        using var _ = source; using var __ = backend; using var ___ = model;
        var evaluator = new FidelityEvaluator(model, Options);
        // Every press that reads the ratio, at ratio 0, plus the full cache itself.
        var settings = PressConfiguration.Expand(["all"], [0.0], new Dictionary<string, string>())
            .Where(s => s.Compression is not null || s.Name == "full").ToList();
        Assert.IsTrue(settings.Count >= 8, string.Join(", ", settings.Select(s => s.Key)));

        var cells = new List<FidelityCell>();
        for (int w = 0; w < windows.Count; w++)
        {
            var reference = evaluator.Reference(windows[w]);
            foreach (var setting in settings)
            {
                var cell = evaluator.Evaluate(w, windows[w], reference, setting);
                Assert.AreEqual(0.0, cell.KlDivergence, setting.Key);
                Assert.AreEqual(Options.ContinuationTokens, cell.Top1Agreements, setting.Key);
                Assert.AreEqual(cell.FullCacheBytes, cell.CacheBytes, setting.Key);
                cells.Add(cell);
            }
        }
        var rows = FidelitySummary.Rows(settings, cells);
        Assert.IsTrue(rows.All(r => r.Perplexity == rows[0].Perplexity && r.KlDivergence == 0 && r.Top1Agreement == 1 && r.EffectiveRatio == 1));

        // Perplexity over 128-token chunks scores positions 64…126 → 127: the same 63 predictions per window. It runs the
        // chunk in one batch while fidelity decodes the continuation token by token, so allow rounding-level differences.
        var perplexity = Perplexity.Evaluate(model, tokens, Options.WindowTokens, source.CreateTokenizer().BosId, maxChunks: windows.Count);
        Assert.AreEqual(perplexity.ScoredTokens, rows[0].Tokens);
        Assert.AreEqual(perplexity.Value, rows[0].Perplexity, 1e-5 * perplexity.Value);
    }

    [TestMethod]
    public void RealPressesDriftFromTheFullCache()
    {
        var (source, backend, model, windows, _) = Open();
        using var _s = source; using var _b = backend; using var _m = model;
        var evaluator = new FidelityEvaluator(model, Options);
        var reference = evaluator.Reference(windows[0]);
        foreach (var setting in PressConfiguration.Expand(["streaming_llm", "knorm", "kivi"], [0.75], new Dictionary<string, string>()))
        {
            var cell = evaluator.Evaluate(0, windows[0], reference, setting);
            Assert.IsTrue(cell.KlDivergence > 0, setting.Key);
            Assert.IsTrue(cell.Top1Agreements <= cell.Tokens, setting.Key);
            Assert.IsTrue(cell.CacheBytes < cell.FullCacheBytes, setting.Key);
            Assert.IsTrue(double.IsFinite(cell.NegativeLogLikelihood) && cell.NegativeLogLikelihood > 0, setting.Key);
        }
    }

    [TestMethod]
    public void LogSoftmaxAndKlDivergenceMatchHandValues()
    {
        float[] logits = [1f, 2f, 3f];
        var logP = new double[3];
        LogProbabilities.LogSoftmax(logits, logP);
        for (int i = 0; i < 3; i++) Assert.AreEqual(Perplexity.LogSoftmaxAt(logits, i), logP[i]); // the same arithmetic, bit for bit
        Assert.AreEqual(1.0, logP.Sum(Math.Exp), 1e-15);

        // KL([½, ½] ‖ [¼, ¾]) = ½ ln 2 + ½ ln(2/3) = ½ ln(4/3) = 0.14384103622589045.
        double kl = LogProbabilities.KlDivergence([Math.Log(0.5), Math.Log(0.5)], [Math.Log(0.25), Math.Log(0.75)]);
        Assert.AreEqual(0.5 * Math.Log(4.0 / 3.0), kl, 1e-15);
        // A zero-probability term contributes nothing, even where q is also 0.
        Assert.AreEqual(0.0, LogProbabilities.KlDivergence([0.0, double.NegativeInfinity], [0.0, double.NegativeInfinity]));
        Assert.AreEqual(2, LogProbabilities.ArgMax([1.0, 3.0, 5.0, 5.0]));
    }
}
