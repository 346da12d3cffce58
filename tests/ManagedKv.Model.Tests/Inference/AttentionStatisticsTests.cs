using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Inference;

/// <summary>
/// Attention statistics as an opt-in output of the reference attention kernel: sums worked out by hand on a tiny
/// cache, growth across micro-batches, and the logits of real models unchanged, bit for bit, when they are asked for.
/// </summary>
[TestClass]
public sealed class AttentionStatisticsTests
{
    // One KV head, keyDim 4 (scale 1/2), two query heads sharing it. Keys: k0 = 0, k1 = e0, k2 = e1.
    // Query head 0 is q = (2 ln 2, 2 ln 3, 0, 0): scores q·k/2 = 0, ln 2, ln 3, so exp = 1, 2, 3.
    //   At position 1 it sees k0, k1: p = 1/3, 2/3. At position 2 it sees all three: p = 1/6, 2/6, 3/6.
    // Query head 1 is q = 0: uniform. Position 1: 1/2, 1/2. Position 2: 1/3, 1/3, 1/3.
    private static readonly float[][] Keys = [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]];
    private static readonly float[] QueryHead0 = [2 * MathF.Log(2), 2 * MathF.Log(3), 0, 0];

    [TestMethod]
    public void SumsEveryCountedQuerysProbabilitiesPerQueryHead()
    {
        // All queries (threshold at the call's start): head 0: 1/3 + 1/6, 2/3 + 2/6, 3/6; head 1: 1/2 + 1/3, 1/2 + 1/3, 1/3.
        var all = Run(firstQuery: 1);
        AssertSums([1.0 / 2, 1.0, 1.0 / 2], all.Sums(0));
        AssertSums([5.0 / 6, 5.0 / 6, 1.0 / 3], all.Sums(1));
        Assert.AreEqual(new PositionRange(1, 3), all.Queries);

        // Last query only (TOVA's request): its probabilities.
        var last = Run(firstQuery: 2);
        AssertSums([1.0 / 6, 2.0 / 6, 3.0 / 6], last.Sums(0));
        AssertSums([1.0 / 3, 1.0 / 3, 1.0 / 3], last.Sums(1));
        Assert.AreEqual(new PositionRange(2, 3), last.Queries);
    }

    [TestMethod]
    public void SumsGrowWithTheCacheAcrossMicroBatches()
    {
        using var backend = new ReferenceBackend();
        var cache = new KvCache(layers: 1, kvHeads: 1, keyDim: 4, valueDim: 2);
        var statistics = new AttentionStatistics(queryHeads: 2);
        statistics.Begin(new PositionRange(0, 3), firstQuery: 0);

        // Micro-batch 1: tokens 0 and 1 (queries at 0 and 1). Micro-batch 2: token 2.
        Append(cache, 0);
        Append(cache, 1);
        Attend(backend, cache, [0, 1], statistics);
        // Query 0 sees only token 0 (p = 1) in both heads; query 1 as in the class comment.
        AssertSums([1 + 1.0 / 3, 2.0 / 3], statistics.Sums(0));
        AssertSums([1 + 1.0 / 2, 1.0 / 2], statistics.Sums(1));

        Append(cache, 2);
        Attend(backend, cache, [2], statistics);
        AssertSums([1 + 1.0 / 3 + 1.0 / 6, 2.0 / 3 + 2.0 / 6, 3.0 / 6], statistics.Sums(0));
        AssertSums([1 + 1.0 / 2 + 1.0 / 3, 1.0 / 2 + 1.0 / 3, 1.0 / 3], statistics.Sums(1));

        // A new call starts from zero and is sized by the kernel even when no query counts.
        statistics.Begin(new PositionRange(3, 4), firstQuery: 4);
        Attend(backend, cache, [2], statistics);
        AssertSums([0, 0, 0], statistics.Sums(0));
    }

    [TestMethod]
    public void AccumulatorRefusesAShrunkenHead()
    {
        var statistics = new AttentionStatistics(1);
        statistics.Begin(new PositionRange(0, 4), 0);
        statistics.Accumulator(0, 4);
        Assert.ThrowsExactly<InvalidOperationException>(() => statistics.Accumulator(0, 3));
    }

    [TestMethod]
    public void KeepFollowsAnEvictionPerKvHead()
    {
        // Two KV heads, two query heads each: heads 0, 1 read KV head 0; heads 2, 3 read KV head 1.
        var statistics = new AttentionStatistics(4);
        statistics.Begin(new PositionRange(0, 4), 0);
        for (int h = 0; h < 4; h++)
            for (int j = 0; j < 4; j++) statistics.Accumulator(h, 4)[j] = 10 * h + j;
        statistics.Keep([[0, 2, 3], [1]]);
        AssertSums([0, 2, 3], statistics.Sums(0));
        AssertSums([10, 12, 13], statistics.Sums(1));
        AssertSums([21], statistics.Sums(2));
        AssertSums([31], statistics.Sums(3));
        Assert.ThrowsExactly<ArgumentException>(() => statistics.Keep([[0, 5], [0]]));
    }

    public static IEnumerable<object[]> Models => new[] { "stories260K", "tiny-llama-F32", "tiny-qwen2-F32", "tiny-llama-Q4_K_M" }.Select(m => new object[] { m });

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void StatisticsLeaveTheLogitsBitIdentical(string model)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        int[] prompt = golden.PromptTokens("story");
        foreach (int maxBatch in new[] { 512, 37 })
        {
            using var transformer = new Transformer(source, new ReferenceBackend(), maxBatch);
            KvCache plainCache = transformer.CreateCache(), observedCache = transformer.CreateCache();
            float[] expected = new float[transformer.VocabSize], actual = new float[transformer.VocabSize];
            var hook = new StatisticsHook(source.Config.BlockCount, source.Config.HeadCount);
            transformer.Forward(prompt, plainCache, LogitsMode.Last, expected);
            transformer.Forward(prompt, observedCache, LogitsMode.Last, actual, hook);
            AssertBits(expected, actual, $"{model} prefill, micro-batch {maxBatch}");
            hook.AssertEveryQueryDistributesOne(prompt.Length);

            // Decoding: one counted query per step.
            for (int step = 0; step < 3; step++)
            {
                int[] token = [Sampling.Sampler.ArgMax(expected)];
                transformer.Forward(token, plainCache, LogitsMode.Last, expected);
                transformer.Forward(token, observedCache, LogitsMode.Last, actual, hook);
                AssertBits(expected, actual, $"{model} decode step {step}, micro-batch {maxBatch}");
                hook.AssertEveryQueryDistributesOne(1);
            }
        }
    }

    [TestMethod]
    public void MicroBatchSizeDoesNotChangeTheSums()
    {
        var golden = LlamaCppGolden.Load("tiny-llama-F32");
        using var source = ModelSource.Open(golden.ModelPath);
        int[] prompt = golden.PromptTokens("story");
        var whole = Observe(source, prompt, 512);
        var chunked = Observe(source, prompt, 16);
        for (int l = 0; l < whole.Length; l++)
            for (int h = 0; h < whole[l].QueryHeadCount; h++)
            {
                var a = whole[l].Sums(h);
                var b = chunked[l].Sums(h);
                Assert.AreEqual(prompt.Length, a.Length);
                Assert.AreEqual(a.Length, b.Length);
                // Quantities differ only by the batch-size-dependent matmul kernels' rounding.
                for (int j = 0; j < a.Length; j++) Assert.AreEqual(a[j], b[j], 1e-3 * Math.Max(1, Math.Abs(a[j])), $"layer {l} head {h} token {j}");
            }
    }

    private static AttentionStatistics[] Observe(ModelSource source, int[] prompt, int maxBatch)
    {
        using var transformer = new Transformer(source, new ReferenceBackend(), maxBatch);
        var hook = new StatisticsHook(source.Config.BlockCount, source.Config.HeadCount);
        transformer.Forward(prompt, transformer.CreateCache(), LogitsMode.Last, new float[transformer.VocabSize], hook);
        return hook.Statistics;
    }

    private static AttentionStatistics Run(int firstQuery)
    {
        using var backend = new ReferenceBackend();
        var cache = new KvCache(layers: 1, kvHeads: 1, keyDim: 4, valueDim: 2);
        for (int t = 0; t < 3; t++) Append(cache, t);
        var statistics = new AttentionStatistics(queryHeads: 2);
        statistics.Begin(new PositionRange(1, 3), firstQuery);
        Attend(backend, cache, [1, 2], statistics);
        return statistics;
    }

    private static void Append(KvCache cache, int t) => cache.Append(0, 0, t, Keys[t], [t, -t]);

    private static void Attend(ReferenceBackend backend, KvCache cache, int[] positions, AttentionStatistics statistics)
    {
        var q = (HostTensor)backend.Allocate(positions.Length, 2 * 4);
        var output = backend.Allocate(positions.Length, 2 * 2);
        for (int r = 0; r < positions.Length; r++) QueryHead0.CopyTo(q.Row(r)); // head 1 stays 0
        backend.Attention(q, cache, 0, positions, output, statistics);
    }

    private static void AssertSums(double[] expected, ReadOnlySpan<float> actual)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        for (int j = 0; j < expected.Length; j++) Assert.AreEqual(expected[j], actual[j], 1e-6, $"token {j}");
    }

    private static void AssertBits(float[] expected, ReadOnlySpan<float> actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]), $"{what}: logit {i}");
    }

    /// <summary>Asks every layer for the attention of every query of every call.</summary>
    private sealed class StatisticsHook(int layers, int heads) : ILayerHook
    {
        public AttentionStatistics[] Statistics { get; } = Enumerable.Range(0, layers).Select(_ => new AttentionStatistics(heads)).ToArray();

        public void BeginForward(PositionRange call)
        {
            foreach (var s in Statistics) s.Begin(call, call.Start);
        }

        public AttentionStatistics? StatisticsFor(int layer) => Statistics[layer];

        public void AfterLayer(in LayerEvent e)
        {
        }

        /// <summary>Each counted query's probabilities sum to 1, so each head's sums add up to the query count.</summary>
        public void AssertEveryQueryDistributesOne(int queries)
        {
            foreach (var s in Statistics)
            {
                Assert.AreEqual(queries, s.Queries.Count);
                for (int h = 0; h < s.QueryHeadCount; h++)
                {
                    double total = 0;
                    foreach (float p in s.Sums(h)) total += p;
                    Assert.AreEqual(queries, total, 1e-4 * queries, $"head {h}");
                }
            }
        }
    }
}
