using ManagedKv.Model.Compression;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Presses;

/// <summary>
/// The shared press matrix (<see cref="PressMatrix"/>: every registered press and variant × model × ratio) on the
/// CPU backend. (a) On the very cache and statistics the CPU forward pass produced, every layer's plan with the CPU
/// kernels equals the scalar oracle's plan, and every scorer's per-head scores are bit-identical. (b) The whole CPU
/// pipeline gives the reference matrix's golden plan (testdata/presses), the byte formula holds and decoding works.
/// </summary>
[TestClass]
public sealed class CpuPressMatrixTests
{
    public static IEnumerable<object[]> Cells => PressMatrix.Cells;

    [TestMethod]
    [DynamicData(nameof(Cells))]
    public void KernelPlansEqualTheOraclesOnTheSameCache(string press, string model, double ratio)
    {
        var pressCase = PressMatrix.Case(press);
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        using var backend = new CpuBackend(2);
        using var transformer = new Transformer(source, backend);
        var runner = new PressRunner(source.Config, [PressMatrix.Create(pressCase, ratio)]) { Record = true };
        var check = new OracleCheck(runner, source.Config, () => PressMatrix.Create(pressCase, ratio));
        transformer.Forward(golden.PromptTokens("story"), transformer.CreateCache(), LogitsMode.Last, new float[transformer.VocabSize], check);
        Assert.AreEqual(source.Config.BlockCount, check.Layers, "every layer was compared");
        Assert.AreEqual(runner.History.Count, check.Plans, "the runner applied the plans that were compared");
    }

    [TestMethod]
    [DynamicData(nameof(Cells))]
    public void CpuPipelineGivesTheReferenceGoldenPlan(string press, string model, double ratio)
    {
        var pressCase = PressMatrix.Case(press);
        using var run = PressRun.Start(() => new CpuBackend(2), model, pressCase, ratio);
        var cache = run.Session.Cache;
        string actual = PressMatrix.Describe(run.Runner.History, cache);
        // Exact, KIVI's fingerprints of quantised codes and f16 scales included: on these models the CPU backend's
        // forward pass is bit-identical to the reference's (CpuOpByOpTests), so every plan and code must match.
        Golden.Verify("presses", pressCase.GoldenName(model, ratio), actual);
        Assert.AreEqual(PressMatrix.ExpectedBytes(cache), cache.ByteCount);

        int token = ModelRunArgMax(run.Logits);
        for (int step = 0; step < 4; step++)
        {
            var logits = run.Session.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite), $"step {step}");
            token = ModelRunArgMax(logits);
        }
    }

    private static int ModelRunArgMax(ReadOnlySpan<float> logits) => Inference.ModelRun.ArgMax(logits);

    /// <summary>
    /// Wraps the press runner: after each layer's prefill, before the runner applies its plan, a fresh press scores
    /// the live cache with the scalar oracle (no backend) and another with the CPU kernels; the plans must be equal
    /// and a scorer's scores bit-identical. Fresh instances, because H2O and LagKV keep per-layer state.
    /// </summary>
    private sealed class OracleCheck(PressRunner runner, ModelConfig config, Func<IKvPress> create) : ILayerHook
    {
        public int Layers { get; private set; }

        public int Plans { get; private set; }

        public void BeginForward(PositionRange call) => runner.BeginForward(call);

        public AttentionStatistics? StatisticsFor(int layer) => runner.StatisticsFor(layer);

        public void AfterLayer(in LayerEvent e)
        {
            if (e.IsFinalChunk)
            {
                var statistics = runner.StatisticsFor(e.Layer);
                var oracle = new PressContext(e.Layer, e.Cache, config, CompressionPhase.Prefill, null, statistics);
                var kernels = new PressContext(e.Layer, e.Cache, config, CompressionPhase.Prefill, e.Backend, statistics);
                IKvPress oraclePress = create(), kernelPress = create();
                if (oraclePress is ScorerPress scorer) AssertScoresBitIdentical(scorer, oracle, kernels);
                var expected = oraclePress.CompressPrefill(oracle);
                var actual = kernelPress.CompressPrefill(kernels);
                Assert.AreEqual(Text(expected), Text(actual), $"layer {e.Layer}: kernel plan vs oracle plan");
                Layers++;
                if (actual is not null) Plans++;
            }
            runner.AfterLayer(e);
        }

        private static void AssertScoresBitIdentical(ScorerPress press, PressContext oracle, PressContext kernels)
        {
            for (int h = 0; h < oracle.Cache.KvHeadCount; h++)
            {
                int n = oracle.Head(h).Count;
                float[] expected = new float[n], actual = new float[n];
                press.Score(oracle, h, expected);
                if (kernels.Backend is not IPressScoring fast || !fast.TryScore(press, kernels, h, actual)) press.Score(kernels, h, actual);
                for (int i = 0; i < n; i++)
                    Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]),
                        $"{press.Name} layer {oracle.Layer} head {h} token {i}: oracle {expected[i]:R}, kernel {actual[i]:R}");
            }
        }

        private static string Text(KvPlan? plan) => plan switch
        {
            null => "no plan",
            KeepPlan keep => string.Join('\n', keep.KeepPerHead.Select((k, h) => $"head {h}: {string.Join(' ', k)}")),
            _ => plan.ToString()!,
        };
    }
}
