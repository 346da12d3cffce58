using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// LagKV inside real forward passes: the kept length after prefill follows the paper's Eq. 12 per head and in
/// bytes, decoding compresses again exactly when the uncompressed region reaches 2L, a reset session starts over,
/// and a lag-32 snapshot of the story prompt (the shared matrix's default lag of 128 does not compress 201 tokens).
/// </summary>
[TestClass]
public sealed class LagKvModelTests
{
    private static readonly double[] Ratios = [0.25, 0.5, 0.75, 0.875];

    public static IEnumerable<object[]> SnapshotCells =>
        from model in new[] { "stories260K", "tiny-llama-F32" } from ratio in Ratios select new object[] { model, ratio };

    [TestMethod]
    [DataRow(16, 35, 0.5)]   // Ls = S + 2L − 1: no compression
    [DataRow(16, 36, 0.5)]   // Ls = S + 2L: one scored partition, no remainder
    [DataRow(16, 53, 0.75)]  // remainder 1
    [DataRow(16, 300, 0.5)]
    [DataRow(16, 600, 0.875)]
    [DataRow(32, 67, 0.5)]
    [DataRow(32, 68, 0.25)]
    [DataRow(32, 300, 0.75)]
    [DataRow(32, 600, 0.5)]
    public void PrefillKeepsTheEq12LengthPerHeadAndInBytes(int lag, int tokens, double ratio)
    {
        const int sink = 4;
        using var run = new LagKvRun("stories260K", ratio, lag, sink);
        run.Session.Prefill(LongPrompt(tokens));

        int expected = Eq12(tokens, sink, lag, ratio);
        Assert.AreEqual(expected, run.Press.KeptAfterPrefill(tokens));
        var cache = run.Session.Cache;
        for (int layer = 0; layer < cache.LayerCount; layer++)
            for (int h = 0; h < cache.KvHeadCount; h++)
            {
                var positions = cache.Head(layer, h).Positions;
                Assert.AreEqual(expected, positions.Length, $"layer {layer} head {h}");
                // Sink and tail (last full partition + remainder) are whole.
                int tail = tokens < sink + 2 * lag ? tokens : lag + (tokens - sink) % lag;
                for (int i = 0; i < Math.Min(sink, tokens); i++) Assert.AreEqual(i, positions[i]);
                for (int i = 0; i < tail; i++) Assert.AreEqual(tokens - 1 - i, positions[positions.Length - 1 - i]);
            }
        long perToken = cache.KeyDim * 4L + cache.ValueDim * 4L + sizeof(int);
        Assert.AreEqual((long)expected * cache.LayerCount * cache.KvHeadCount * perToken, cache.ByteCount);
        Assert.AreEqual(tokens < sink + 2 * lag ? 0 : cache.LayerCount, run.Runner.History.Count, "one plan per layer when it compresses");
    }

    [TestMethod]
    public void DecodingCompressesAgainEachTimeTheUncompressedRegionReachesTwoLags()
    {
        const int sink = 4, lag = 16, prompt = 300;
        const double ratio = 0.5; // k = 8
        using var run = new LagKvRun("stories260K", ratio, lag, sink);
        var logits = run.Session.Prefill(LongPrompt(prompt));
        var cache = run.Session.Cache;

        // After prefill: P = ⌊296/16⌋ = 18, remainder 8: held 4 + 8·17 + 16 + 8 = 164, base_len 4 + 8·17 = 140.
        // The uncompressed region (24 tokens) reaches 2L = 32 after 8 decode steps: 172 → base_len 148, held
        // 148 + 16 = 164; then every 16 steps, each time keeping k = 8 of the 16 new tokens (base_len 156, 164).
        // So over 48 steps: compressions after steps 8, 24 and 40, ending at 164 + 16 + 8 = 188 tokens.
        int held = 164, baseLen = 140;
        Assert.AreEqual(held, cache.Head(0, 0).Count);
        Assert.AreEqual(baseLen, run.Press.CompressedLength(0));
        var compressedAt = new List<int>();
        int token = Model.Sampling.Sampler.ArgMax(logits);
        for (int step = 1; step <= 3 * lag; step++)
        {
            int compressedBefore = baseLen;
            var before = Snapshot(cache, compressedBefore);
            int plansBefore = run.Runner.History.Count;
            token = Model.Sampling.Sampler.ArgMax(run.Session.Decode(token));

            held++;
            if (held - baseLen >= 2 * lag)
            {
                compressedAt.Add(step);
                int partitions = (held - baseLen) / lag;
                int remainder = (held - baseLen) % lag;
                baseLen += (partitions - 1) * 8;
                held = baseLen + lag + remainder;
                Assert.AreEqual(cache.LayerCount, run.Runner.History.Count - plansBefore, $"step {step}: one plan per layer");
                // [0, base_len) is never rescored: the previously compressed prefix is untouched.
                CollectionAssert.AreEqual(before, Snapshot(cache, compressedBefore), $"step {step}");
            }
            else Assert.AreEqual(plansBefore, run.Runner.History.Count, $"step {step}: no plan");

            for (int layer = 0; layer < cache.LayerCount; layer++)
            {
                Assert.AreEqual(baseLen, run.Press.CompressedLength(layer), $"step {step} layer {layer}");
                for (int h = 0; h < cache.KvHeadCount; h++) Assert.AreEqual(held, cache.Head(layer, h).Count, $"step {step} layer {layer} head {h}");
            }
        }
        CollectionAssert.AreEqual(new[] { 8, 24, 40 }, compressedAt);
        Assert.AreEqual(188, held);
        long perToken = cache.KeyDim * 4L + cache.ValueDim * 4L + sizeof(int);
        Assert.AreEqual((long)held * cache.LayerCount * cache.KvHeadCount * perToken, cache.ByteCount);
    }

    [TestMethod]
    public void AResetSessionStartsOverFromTheSink()
    {
        using var fresh = new LagKvRun("stories260K", 0.5, 16, 4);
        fresh.Session.Prefill(LongPrompt(300));

        using var reused = new LagKvRun("stories260K", 0.5, 16, 4);
        int token = Model.Sampling.Sampler.ArgMax(reused.Session.Prefill(LongPrompt(200)));
        for (int i = 0; i < 40; i++) token = Model.Sampling.Sampler.ArgMax(reused.Session.Decode(token));
        Assert.AreNotEqual(4, reused.Press.CompressedLength(0));
        reused.Session.Reset();
        reused.Session.Prefill(LongPrompt(300));

        for (int layer = 0; layer < fresh.Session.Cache.LayerCount; layer++)
            for (int h = 0; h < fresh.Session.Cache.KvHeadCount; h++)
                CollectionAssert.AreEqual(fresh.Session.Cache.Head(layer, h).Positions.ToArray(), reused.Session.Cache.Head(layer, h).Positions.ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(SnapshotCells))]
    public void StoryPromptAtLag32MatchesSnapshot(string model, double ratio)
    {
        const int sink = 4, lag = 32;
        using var run = new LagKvRun(model, ratio, lag, sink);
        var golden = LlamaCppGolden.Load(model);
        var prompt = golden.PromptTokens("story");
        var logits = run.Session.Prefill(prompt);
        var cache = run.Session.Cache;

        Golden.Verify("presses", $"lagkv-L32-{model}-{ratio:0.###}", PressMatrix.Describe(run.Runner.History, cache));

        int expected = Eq12(prompt.Length, sink, lag, ratio);
        long perToken = cache.KeyDim * 4L + cache.ValueDim * 4L + sizeof(int);
        Assert.AreEqual((long)expected * cache.LayerCount * cache.KvHeadCount * perToken, cache.ByteCount);
        Assert.IsTrue(cache.ByteCount < cache.FullCacheBytes);

        int token = Model.Sampling.Sampler.ArgMax(logits);
        for (int step = 0; step < 4; step++)
        {
            var next = run.Session.Decode(token);
            Assert.IsTrue(next.ToArray().All(float.IsFinite), $"step {step}");
            token = Model.Sampling.Sampler.ArgMax(next);
        }
    }

    /// <summary>The paper's Eq. 12, written out: S + rL(⌊(Ls−S)/L⌋−1) + L + mod(Ls−S, L); Ls below S + 2L.</summary>
    private static int Eq12(int tokens, int sink, int lag, double ratio) =>
        tokens < sink + 2 * lag ? tokens : sink + (int)((1 - ratio) * lag) * ((tokens - sink) / lag - 1) + lag + (tokens - sink) % lag;

    /// <summary>The story prompt (BOS + 200 tokens) followed by its body again until <paramref name="tokens"/> long.</summary>
    private static int[] LongPrompt(int tokens)
    {
        var story = LlamaCppGolden.Load("stories260K").PromptTokens("story");
        var prompt = new int[tokens];
        for (int i = 0; i < tokens; i++) prompt[i] = i < story.Length ? story[i] : story[1 + (i - story.Length) % (story.Length - 1)];
        return prompt;
    }

    /// <summary>Positions of the first <paramref name="count"/> tokens of every (layer, head), concatenated.</summary>
    private static int[] Snapshot(KvCache cache, int count) =>
        Enumerable.Range(0, cache.LayerCount * cache.KvHeadCount)
            .SelectMany(i => cache.Head(i / cache.KvHeadCount, i % cache.KvHeadCount).Positions[..count].ToArray()).ToArray();

    /// <summary>A session of <paramref name="model"/> with a recording LagKV press.</summary>
    private sealed class LagKvRun : IDisposable
    {
        private readonly ModelSource _source;
        private readonly Transformer _model;

        public LagKvRun(string model, double ratio, int lag, int sink)
        {
            _source = ModelSource.Open(LlamaCppGolden.Load(model).ModelPath);
            _model = new Transformer(_source, new ReferenceBackend());
            Press = (LagKvPress)PressRegistry.Get("lagkv").Create(new CompressionBudget { Compression = ratio },
                new Dictionary<string, string> { ["lag"] = $"{lag}", ["sink"] = $"{sink}" });
            Runner = new PressRunner(_source.Config, [Press]) { Record = true };
            Session = new Session(_model) { Compression = Runner };
        }

        public LagKvPress Press { get; }
        public PressRunner Runner { get; }
        public Session Session { get; }

        public void Dispose()
        {
            _model.Dispose();
            _source.Dispose();
        }
    }
}
