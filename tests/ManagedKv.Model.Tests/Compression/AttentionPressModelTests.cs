using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// The attention-scored presses inside real forward passes: decode-time budgets (H2O and TOVA keep a fixed-size cache,
/// SnapKV and PyramidKV are prefill-only), compositions (statistics follow an earlier press's eviction; conflicting
/// requests are refused), and a reset session starting over.
/// </summary>
[TestClass]
public sealed class AttentionPressModelTests
{
    private const string Model = "stories260K";

    [TestMethod]
    [DataRow("h2o")]
    [DataRow("tova")]
    public void DecodingKeepsTheCacheAtThePrefillsSize(string name)
    {
        using var run = new Run(Model, PressRegistry.Get(name).Create(new CompressionBudget { Compression = 0.5 }));
        int prompt = run.Prefill();
        AssertEveryHead(run, 100, "after the prefill: int(201·0.5)");
        int token = Sampling.Sampler.ArgMax(run.Session.Logits);
        for (int step = 0; step < 6; step++)
        {
            var logits = run.Session.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite));
            AssertEveryHead(run, 100, $"step {step}");
            for (int l = 0; l < run.Session.Cache.LayerCount; l++)
                for (int h = 0; h < run.Session.Cache.KvHeadCount; h++)
                    Assert.AreEqual(prompt + step, run.Session.Cache.Head(l, h).Positions[^1], "the newest token is always kept");
            token = Sampling.Sampler.ArgMax(logits);
        }
        if (run.Press is H2OPress h2o)
            for (int l = 0; l < run.Session.Cache.LayerCount; l++)
                Assert.AreEqual(100, h2o.AccumulatedAttention(l, 0).Length, "the accumulators follow the evictions");
    }

    [TestMethod]
    public void ATokenBudgetAboveThePromptLetsTheCacheGrowToIt()
    {
        using var run = new Run(Model, new H2OPress { Budget = new CompressionBudget { TokenBudget = 205 } });
        run.Prefill();
        AssertEveryHead(run, 201, "the prompt fits");
        int token = Sampling.Sampler.ArgMax(run.Session.Logits);
        for (int step = 1; step <= 8; step++)
        {
            token = Sampling.Sampler.ArgMax(run.Session.Decode(token));
            AssertEveryHead(run, Math.Min(201 + step, 205), $"step {step}");
        }
    }

    [TestMethod]
    [DataRow("snapkv")]
    [DataRow("pyramidkv")]
    public void PrefillOnlyPressesLetDecodingGrow(string name)
    {
        using var run = new Run(Model, PressRegistry.Get(name).Create(new CompressionBudget { Compression = 0.5 }));
        run.Prefill();
        var kept = Enumerable.Range(0, run.Session.Cache.LayerCount).Select(l => run.Session.Cache.Head(l, 0).Count).ToArray();
        int token = Sampling.Sampler.ArgMax(run.Session.Logits);
        for (int step = 0; step < 3; step++) token = Sampling.Sampler.ArgMax(run.Session.Decode(token));
        for (int l = 0; l < kept.Length; l++) Assert.AreEqual(kept[l] + 3, run.Session.Cache.Head(l, 0).Count);
        Assert.AreEqual(run.Session.Cache.LayerCount, run.Runner.History.Count, "no decode-time plans");
    }

    [TestMethod]
    public void StatisticsFollowAnEarlierPressesEviction()
    {
        // StreamingLLM keeps int(201·0.75) = 150 (4 sinks + the last 146); SnapKV then scores those 150 with the
        // statistics the runner compacted to match, and keeps int(150·0.75) = 112, its window (137–200) among them.
        var streaming = PressRegistry.Get("streaming_llm").Create(new CompressionBudget { Compression = 0.25 });
        using var run = new Run(Model, streaming, new SnapKvPress { Budget = new CompressionBudget { Compression = 0.25 } });
        run.Prefill();
        AssertEveryHead(run, 112, "streaming then snapkv");
        var positions = run.Session.Cache.Head(2, 1).Positions.ToArray();
        CollectionAssert.IsSubsetOf(Enumerable.Range(137, 64).ToArray(), positions);
        Assert.IsTrue(positions.All(p => p < 4 || p >= 55), "only tokens StreamingLLM kept");
    }

    [TestMethod]
    public void PressesAskingForDifferentQueriesCannotShareALayer()
    {
        using var run = new Run(Model, new H2OPress(), new SnapKvPress());
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => run.Prefill());
        StringAssert.Contains(e.Message, "h2o");
        StringAssert.Contains(e.Message, "snapkv");
    }

    [TestMethod]
    public void AResetSessionStartsOver()
    {
        var budget = new CompressionBudget { Compression = 0.5 };
        using var fresh = new Run(Model, new H2OPress { Budget = budget });
        fresh.Prefill();

        using var reused = new Run(Model, new H2OPress { Budget = budget });
        reused.Prefill();
        int token = Sampling.Sampler.ArgMax(reused.Session.Logits);
        for (int step = 0; step < 3; step++) token = Sampling.Sampler.ArgMax(reused.Session.Decode(token));
        reused.Session.Reset();
        int before = reused.Runner.History.Count;
        reused.Prefill();
        var again = reused.Runner.History.Skip(before).ToArray();
        Assert.AreEqual(fresh.Runner.History.Count, again.Length);
        for (int i = 0; i < again.Length; i++)
            for (int h = 0; h < reused.Session.Cache.KvHeadCount; h++)
                CollectionAssert.AreEqual(((KeepPlan)fresh.Runner.History[i]).KeepPerHead[h], ((KeepPlan)again[i]).KeepPerHead[h], $"plan {i} head {h}");
        CollectionAssert.AreEqual(fresh.Session.Logits.ToArray(), reused.Session.Logits.ToArray());
    }

    private static void AssertEveryHead(Run run, int count, string what)
    {
        var cache = run.Session.Cache;
        for (int l = 0; l < cache.LayerCount; l++)
            for (int h = 0; h < cache.KvHeadCount; h++)
                Assert.AreEqual(count, cache.Head(l, h).Count, $"{what}: layer {l} head {h}");
    }

    /// <summary>A session on a model with a press runner.</summary>
    private sealed class Run : IDisposable
    {
        private readonly ModelSource _source;
        private readonly Transformer _model;
        private readonly LlamaCppGolden _golden;

        public Run(string model, params IKvPress[] presses)
        {
            _golden = LlamaCppGolden.Load(model);
            _source = ModelSource.Open(_golden.ModelPath);
            _model = new Transformer(_source, new ReferenceBackend());
            Press = presses[^1];
            Runner = new PressRunner(_source.Config, presses) { Record = true };
            Session = new Session(_model) { Compression = Runner };
        }

        public IKvPress Press { get; }
        public PressRunner Runner { get; }
        public Session Session { get; }

        /// <summary>Prefills the 201-token story prompt; returns its length.</summary>
        public int Prefill()
        {
            int[] prompt = _golden.PromptTokens("story");
            Session.Prefill(prompt);
            return prompt.Length;
        }

        public void Dispose()
        {
            _model.Dispose();
            _source.Dispose();
        }
    }
}
