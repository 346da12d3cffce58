using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// Attention statistics from the CPU kernel: asking for them leaves the logits bit-identical, the sums do not depend
/// on the thread count, agree with the reference kernel's, and the attention-scored presses choose the same tokens on
/// both backends.
/// </summary>
[TestClass]
public sealed class AttentionStatisticsCpuTests
{
    [TestMethod]
    [DataRow("stories260K", 512)]
    [DataRow("tiny-llama-F32", 512)]
    [DataRow("tiny-llama-F32", 37)]
    [DataRow("tiny-qwen2-F32", 512)]
    public void StatisticsLeaveTheLogitsBitIdentical(string model, int maxBatch)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        using var backend = new CpuBackend(3);
        using var transformer = new Transformer(source, backend, maxBatch);
        KvCache plainCache = transformer.CreateCache(), observedCache = transformer.CreateCache();
        float[] expected = new float[transformer.VocabSize], actual = new float[transformer.VocabSize];
        var hook = new StatisticsHook(source.Config.BlockCount, source.Config.HeadCount);
        int[] tokens = golden.PromptTokens("story");
        for (int step = 0; step < 4; step++)
        {
            transformer.Forward(tokens, plainCache, LogitsMode.Last, expected);
            transformer.Forward(tokens, observedCache, LogitsMode.Last, actual, hook);
            for (int i = 0; i < expected.Length; i++)
                Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]), $"{model} call {step}: logit {i}");
            foreach (var s in hook.Statistics)
                for (int h = 0; h < s.QueryHeadCount; h++)
                {
                    double total = 0;
                    foreach (float p in s.Sums(h)) total += p;
                    Assert.AreEqual(tokens.Length, total, 1e-4 * tokens.Length, "every counted query distributes 1");
                }
            tokens = [ModelRun.ArgMax(expected)];
        }
    }

    [TestMethod]
    public void SumsAreThreadCountIndependentAndMatchTheReference()
    {
        var golden = LlamaCppGolden.Load("tiny-llama-F32");
        using var source = ModelSource.Open(golden.ModelPath);
        int[] prompt = golden.PromptTokens("story");
        var one = Observe(source, () => new CpuBackend(1), prompt);
        var four = Observe(source, () => new CpuBackend(4), prompt);
        var reference = Observe(source, () => new ReferenceBackend(), prompt);
        for (int l = 0; l < one.Length; l++)
            for (int h = 0; h < one[l].QueryHeadCount; h++)
            {
                CollectionAssert.AreEqual(one[l].Sums(h).ToArray(), four[l].Sums(h).ToArray(), $"layer {l} head {h}: 1 vs 4 threads");
                var cpu = one[l].Sums(h);
                var oracle = reference[l].Sums(h);
                Assert.AreEqual(oracle.Length, cpu.Length);
                for (int j = 0; j < cpu.Length; j++) Assert.AreEqual(oracle[j], cpu[j], 1e-4 * Math.Max(1, oracle[j]), $"layer {l} head {h} token {j}");
            }
    }

    public static IEnumerable<object[]> PressCells =>
        from press in new[] { "h2o", "snapkv", "pyramidkv", "tova" }
        from model in new[] { "stories260K", "tiny-llama-F32" }
        select new object[] { press, model };

    [TestMethod]
    [DynamicData(nameof(PressCells))]
    public void PlansEqualTheReferenceBackends(string press, string model)
    {
        var cpu = Plans(() => new CpuBackend(2), press, model);
        var reference = Plans(() => new ReferenceBackend(), press, model);
        Assert.AreEqual(reference.Count, cpu.Count);
        for (int i = 0; i < cpu.Count; i++)
            for (int h = 0; h < cpu[i].KeepPerHead.Count; h++)
                CollectionAssert.AreEqual(reference[i].KeepPerHead[h], cpu[i].KeepPerHead[h], $"{press}/{model}: plan {i} (layer {cpu[i].Layer}) head {h}");
    }

    /// <summary>Prefill of the story prompt at compression 0.5 and four decode steps; the plans applied.</summary>
    private static List<KeepPlan> Plans(Func<IBackend> backendFactory, string press, string model)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        using var backend = backendFactory();
        using var transformer = new Transformer(source, backend);
        var runner = new PressRunner(source.Config, [PressRegistry.Get(press).Create(new CompressionBudget { Compression = 0.5 })]) { Record = true };
        var session = new Session(transformer) { Compression = runner };
        int token = ModelRun.ArgMax(session.Prefill(golden.PromptTokens("story")));
        for (int step = 0; step < 4; step++) token = ModelRun.ArgMax(session.Decode(token));
        return runner.History.Cast<KeepPlan>().ToList();
    }

    private static AttentionStatistics[] Observe(ModelSource source, Func<IBackend> backendFactory, int[] prompt)
    {
        using var backend = backendFactory();
        using var transformer = new Transformer(source, backend);
        var hook = new StatisticsHook(source.Config.BlockCount, source.Config.HeadCount);
        transformer.Forward(prompt, transformer.CreateCache(), LogitsMode.Last, new float[transformer.VocabSize], hook);
        return hook.Statistics;
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
    }
}
