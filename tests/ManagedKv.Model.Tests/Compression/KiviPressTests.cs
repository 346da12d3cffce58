using ManagedKv.Model.Cache;
using ManagedKv.Model.Cache.Kivi;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.Model.Sampling;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>KIVI on stories260K: one plan per layer after prefill, the residual rule while decoding, 4 bits closer
/// to the full cache than 2 bits, composition with eviction, and the registry entry.</summary>
[TestClass]
public sealed class KiviPressTests
{
    [TestMethod]
    public void PrefillQuantisesEveryLayerAndDecodingFollowsTheResidualRule()
    {
        using var run = new Run([new KiviPress(new KiviFormat())]);
        run.Session.Prefill(run.Prompt);
        var cache = run.Session.Cache;
        Assert.AreEqual(cache.LayerCount, run.Runner.History.Count);
        Assert.IsTrue(run.Runner.History.All(p => p is QuantizePlan { Format: { Bits: 2, Group: 32, Residual: 32 } }));

        int token = Sampler.ArgMax(run.Session.Logits);
        for (int step = 0; step <= 40; step++)
        {
            int n = run.Prompt.Length + step;
            for (int l = 0; l < cache.LayerCount; l++)
                for (int h = 0; h < cache.KvHeadCount; h++)
                {
                    var keys = (KiviKeyRows)cache.Head(l, h).Keys;
                    var values = (KiviValueRows)cache.Head(l, h).Values;
                    Assert.AreEqual(n, keys.Count);
                    Assert.AreEqual(n / 32 * 32, keys.QuantizedCount, $"keys at {n} tokens");
                    Assert.AreEqual(n - 32, values.QuantizedCount, $"values at {n} tokens");
                }
            var logits = run.Session.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite), $"step {step}");
            token = Sampler.ArgMax(logits);
        }
        Assert.AreEqual(cache.LayerCount, run.Runner.History.Count, "decoding needs no plan: the storage quantises appended tokens");
        Assert.IsTrue(cache.ByteCount < cache.FullCacheBytes / 3, $"{cache.ByteCount} of {cache.FullCacheBytes}");
    }

    [TestMethod]
    public void FourBitsTrackTheFullCacheCloserThanTwoBits()
    {
        using var full = new Run([]);
        using var kivi2 = new Run([new KiviPress(new KiviFormat(Bits: 2))]);
        using var kivi4 = new Run([new KiviPress(new KiviFormat(Bits: 4))]);
        var fullLogits = full.Session.Prefill(full.Prompt).ToArray();
        // Prefill attention runs before each layer's plan, so the prompt's logits are untouched.
        CollectionAssert.AreEqual(fullLogits, kivi2.Session.Prefill(kivi2.Prompt).ToArray());
        CollectionAssert.AreEqual(fullLogits, kivi4.Session.Prefill(kivi4.Prompt).ToArray());

        // Teacher-force the full cache's greedy continuation into all three and compare logits step by step.
        float worst2 = 0, worst4 = 0;
        int token = Sampler.ArgMax(fullLogits);
        for (int step = 0; step < 24; step++)
        {
            var reference = full.Session.Decode(token).ToArray();
            worst2 = MathF.Max(worst2, MaxAbsDifference(reference, kivi2.Session.Decode(token)));
            worst4 = MathF.Max(worst4, MaxAbsDifference(reference, kivi4.Session.Decode(token)));
            token = Sampler.ArgMax(reference);
        }
        Assert.IsTrue(worst4 > 0, "4-bit codes are not exact");
        Assert.IsTrue(worst4 < worst2, $"max |Δlogit|: 4-bit {worst4}, 2-bit {worst2}");
    }

    [TestMethod]
    public void ASecondPrefillNeedsNoPlan()
    {
        using var run = new Run([new KiviPress(new KiviFormat())]);
        run.Session.Prefill(run.Prompt.AsSpan(0, 100));
        run.Session.Prefill(run.Prompt.AsSpan(100));
        var cache = run.Session.Cache;
        Assert.AreEqual(cache.LayerCount, run.Runner.History.Count, "the layers were already KIVI");
        var keys = (KiviKeyRows)cache.Head(3, 1).Keys;
        Assert.AreEqual(192, keys.QuantizedCount);
        Assert.AreEqual(169, ((KiviValueRows)cache.Head(3, 1).Values).QuantizedCount);
    }

    [TestMethod]
    public void ComposesWithEvictionBeforeAndAfterQuantisation()
    {
        var streaming = PressRegistry.Get("streaming_llm").Create(new CompressionBudget { Compression = 0.5 });
        using var run = new Run([streaming, new KiviPress(new KiviFormat())]);
        run.Session.Prefill(run.Prompt);
        var cache = run.Session.Cache;
        var head = cache.Head(2, 0);
        Assert.AreEqual(100, head.Count, "StreamingLLM kept half, then KIVI quantised what was kept");
        Assert.AreEqual(96, ((KiviKeyRows)head.Keys).QuantizedCount);

        // Evict from the quantised layer: kept rows read back bit for bit (no re-quantisation).
        int[] keep = [.. Enumerable.Range(0, 100).Where(i => i % 4 != 1)];
        var before = Rows(head, keep);
        cache.Apply(new KeepPlan(2, Enumerable.Range(0, cache.KvHeadCount).Select(_ => keep).ToList()));
        CollectionAssert.AreEqual(before, Rows(head, [.. Enumerable.Range(0, keep.Length)]));
        Assert.AreEqual(keep.Length, head.Count);
        Assert.AreEqual(KiviBytes.Expected(head.Keys) + KiviBytes.Expected(head.Values) + 4L * head.Count, head.ByteCount);

        int token = Sampler.ArgMax(run.Session.Logits);
        for (int step = 0; step < 8; step++)
        {
            var logits = run.Session.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite), $"step {step}");
            token = Sampler.ArgMax(logits);
        }
        Assert.AreEqual(keep.Length + 8, head.Count);
    }

    [TestMethod]
    public void RegistryEntryParsesSettingsAndIgnoresTheBudget()
    {
        var descriptor = PressRegistry.Get("kivi");
        Assert.IsFalse(descriptor.UsesBudget);
        var press = (KiviPress)descriptor.Create(new CompressionBudget { Compression = 0.9 },
            new Dictionary<string, string> { ["bits"] = "4", ["group"] = "16", ["residual"] = "64" });
        Assert.AreEqual(new KiviFormat(4, 16, 64), press.Format);
        Assert.AreEqual(new KiviFormat(2, 32, 32), ((KiviPress)descriptor.Create(new CompressionBudget())).Format);
        Assert.ThrowsExactly<ArgumentException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["bits"] = "3" }));
        Assert.ThrowsExactly<ArgumentException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["residual"] = "40" }));
    }

    private static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float worst = 0;
        for (int i = 0; i < a.Length; i++) worst = MathF.Max(worst, MathF.Abs(a[i] - b[i]));
        return worst;
    }

    private static float[] Rows(KvHead head, int[] indices)
    {
        int kd = head.Keys.Width, vd = head.Values.Width;
        var all = new float[indices.Length * (kd + vd)];
        for (int j = 0; j < indices.Length; j++)
        {
            head.Keys.Read(indices[j], all.AsSpan(j * (kd + vd), kd));
            head.Values.Read(indices[j], all.AsSpan(j * (kd + vd) + kd, vd));
        }
        return all;
    }

    /// <summary>A stories260K session with the given presses and the 201-token story prompt.</summary>
    private sealed class Run : IDisposable
    {
        private readonly ModelSource _source;
        private readonly Transformer _model;

        public Run(IReadOnlyList<IKvPress> presses)
        {
            var golden = LlamaCppGolden.Load("stories260K");
            _source = ModelSource.Open(golden.ModelPath);
            _model = new Transformer(_source, new ReferenceBackend());
            Runner = new PressRunner(_source.Config, presses) { Record = true };
            Session = new Session(_model) { Compression = presses.Count > 0 ? Runner : null };
            Prompt = golden.PromptTokens("story");
        }

        public PressRunner Runner { get; }
        public Session Session { get; }
        public int[] Prompt { get; }

        public void Dispose()
        {
            _model.Dispose();
            _source.Dispose();
        }
    }
}
