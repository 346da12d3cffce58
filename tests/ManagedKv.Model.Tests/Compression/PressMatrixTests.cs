using System.Text;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// The shared press test matrix: every registered press × model × compression ratio. Each cell prefills the
/// 201-token story prompt, records the plans, and checks them against a golden snapshot; checks the cache's
/// byte count against the kept-token formula; decodes after compression; and (ratio 0) equals the full cache
/// bit for bit. A new press joins by being registered.
/// </summary>
[TestClass]
public sealed class PressMatrixTests
{
    private static readonly string[] MatrixModels = ["stories260K", "tiny-llama-F32"];
    private static readonly double[] Ratios = [0.25, 0.5, 0.75, 0.875];

    public static IEnumerable<object[]> Cells =>
        from press in PressRegistry.All
        from model in MatrixModels
        from ratio in Ratios
        select new object[] { press.Name, model, ratio };

    public static IEnumerable<object[]> PressesAndModels =>
        from press in PressRegistry.All from model in MatrixModels select new object[] { press.Name, model };

    [TestMethod]
    [DynamicData(nameof(Cells))]
    public void PlanMatchesSnapshotAndBytesMatchKeptTokens(string press, string model, double ratio)
    {
        using var run = PressRun.Start(model, press, ratio);
        var cache = run.Session.Cache;

        Golden.Verify("presses", $"{press}-{model}-{ratio:0.###}", Describe(run.Runner.History, cache));

        // True byte count: every kept token costs its position plus its key and value rows in their storage
        // format (dense f32: 4 bytes per element; merged pairs and quantised formats: their layout formula).
        Assert.AreEqual(ExpectedBytes(cache), cache.ByteCount);
        Assert.IsTrue(cache.ByteCount <= cache.FullCacheBytes);
        // A plan must really shrink the cache (knorm leaves a 2-layer model alone: it skips layers 0-1).
        if (run.Runner.History.Count > 0) Assert.IsTrue(cache.ByteCount < cache.FullCacheBytes, "plans were applied but the cache did not shrink");
        else Assert.AreEqual(cache.FullCacheBytes, cache.ByteCount);

        // Decoding after compression works and stays finite.
        int token = Model.Sampling.Sampler.ArgMax(run.Logits);
        for (int step = 0; step < 4; step++)
        {
            var logits = run.Session.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite), $"step {step}");
            token = Model.Sampling.Sampler.ArgMax(logits);
        }
    }

    [TestMethod]
    [DynamicData(nameof(PressesAndModels))]
    public void CompressionZeroEqualsTheFullCacheBitForBit(string press, string model)
    {
        if (!PressRegistry.Get(press).UsesBudget)
        {
            // A press that ignores the ratio (KIVI quantises, removing nothing) must give the same result at any ratio.
            using var at0 = PressRun.Start(model, press, 0);
            using var at875 = PressRun.Start(model, press, 0.875);
            CollectionAssert.AreEqual(at0.Logits, at875.Logits);
            int next = Model.Sampling.Sampler.ArgMax(at0.Logits);
            CollectionAssert.AreEqual(at0.Session.Decode(next).ToArray(), at875.Session.Decode(next).ToArray());
            Assert.AreEqual(at0.Session.Cache.ByteCount, at875.Session.Cache.ByteCount);
            return;
        }
        using var full = PressRun.Start(model, "full", 0);
        using var zero = PressRun.Start(model, press, 0, LosslessArguments.GetValueOrDefault(press));
        CollectionAssert.AreEqual(full.Logits, zero.Logits);
        int token = Model.Sampling.Sampler.ArgMax(full.Logits);
        CollectionAssert.AreEqual(full.Session.Decode(token).ToArray(), zero.Session.Decode(token).ToArray());
        Assert.AreEqual(full.Session.Cache.ByteCount, zero.Session.Cache.ByteCount);
    }

    /// <summary>
    /// Presses whose compression does not come from the ratio, with the arguments that make them lossless (the
    /// "compression 0" of the bit-for-bit check): MiniCache retaining every row merges nothing.
    /// </summary>
    private static readonly Dictionary<string, Dictionary<string, string>> LosslessArguments = new()
    {
        ["minicache"] = new() { ["gamma"] = "1" },
    };

    /// <summary>
    /// Bytes the cache should hold, by formula: a dense row costs width × 4 (f32); a MiniCache-merged row costs a
    /// 4-byte magnitude per layer plus one shared direction row for the pair (counted at the lower layer); a
    /// retained row costs a whole row per layer plus one shared 4-byte index; every token costs a 4-byte position per head.
    /// </summary>
    private static long ExpectedBytes(KvCache cache)
    {
        long bytes = 0;
        for (int l = 0; l < cache.LayerCount; l++)
            for (int h = 0; h < cache.KvHeadCount; h++)
            {
                var head = cache.Head(l, h);
                bytes += head.Count * (long)sizeof(int) + RowsBytes(head.Keys) + RowsBytes(head.Values);
            }
        return bytes;

        static long RowsBytes(KvRows rows)
        {
            long row = rows.Width * 4L;
            if (rows is not MergedKvRows merged) return KiviBytes.Expected(rows); // dense rows: Count × Width × element size
            long own = merged.MergedCount * 4L + (merged.RetainedCount + merged.AppendedCount) * row;
            long shared = merged.MergedCount * row + merged.RetainedCount * 4L;
            return own + (merged.IsLowerLayer ? shared : 0);
        }
    }

    /// <summary>Plans as text: layer, head, kept positions (the snapshot format).</summary>
    internal static string Describe(IReadOnlyList<KvPlan> plans, KvCache cache)
    {
        var sb = new StringBuilder();
        foreach (var plan in plans)
        {
            if (plan is not KeepPlan keep) { sb.AppendLine($"layer {plan.Layer}: {plan}"); continue; }
            for (int h = 0; h < keep.KeepPerHead.Count; h++)
                sb.AppendLine($"layer {plan.Layer} head {h} keep {keep.KeepPerHead[h].Length}: {string.Join(' ', keep.KeepPerHead[h])}");
        }
        // Storage that the kept positions do not describe (quantised codes) is recorded by its fingerprint.
        for (int l = 0; l < cache.LayerCount; l++)
            for (int h = 0; h < cache.KvHeadCount; h++)
            {
                var head = cache.Head(l, h);
                if (head.Keys.Fingerprint is { } keys) sb.AppendLine($"layer {l} head {h} keys {keys}");
                if (head.Values.Fingerprint is { } values) sb.AppendLine($"layer {l} head {h} values {values}");
            }
        sb.AppendLine($"cache tokens {cache.TokenCount} bytes {cache.ByteCount} of full {cache.FullCacheBytes}");
        return sb.ToString();
    }

    /// <summary>Bytes the cache must report: per held token its position, plus each head's rows by their format.</summary>
    /// <summary>A session with a press that has prefilled the story prompt.</summary>
    private sealed class PressRun : IDisposable
    {
        private readonly ModelSource _source;
        private readonly Transformer _model;

        private PressRun(string model, string press, double ratio, IReadOnlyDictionary<string, string>? arguments)
        {
            var golden = LlamaCppGolden.Load(model);
            _source = ModelSource.Open(golden.ModelPath);
            _model = new Transformer(_source, new ReferenceBackend());
            Runner = new PressRunner(_source.Config, [PressRegistry.Get(press).Create(new CompressionBudget { Compression = ratio }, arguments)]) { Record = true };
            Session = new Session(_model) { Compression = Runner };
            Logits = Session.Prefill(golden.PromptTokens("story")).ToArray();
        }

        public PressRunner Runner { get; }
        public Session Session { get; }
        public float[] Logits { get; }

        public static PressRun Start(string model, string press, double ratio, IReadOnlyDictionary<string, string>? arguments = null) =>
            new(model, press, ratio, arguments);

        public void Dispose()
        {
            _model.Dispose();
            _source.Dispose();
        }
    }
}
