using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>The runner's clock counts one invocation per layer and forward call, split by phase (no timing asserted).</summary>
[TestClass]
public sealed class PressRunnerTimingTests
{
    [TestMethod]
    public void CountsInvocationsPerPhaseAndResets()
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        using var model = new Transformer(source, new ReferenceBackend(), maxBatch: 4);
        var press = new StreamingLlmPress { Budget = new CompressionBudget { Compression = 0.5 } };
        var runner = new PressRunner(model.Config, [press]);
        var session = new Session(model) { Compression = runner };
        int layers = model.Config.BlockCount;

        Assert.AreEqual(default, runner.Timing);
        session.Prefill([1, 403, 407, 142, 350, 292, 12, 263, 217]); // three micro-batches: presses run after the last
        Assert.AreEqual(layers, runner.Timing.Prefill.Invocations);
        Assert.AreEqual(0, runner.Timing.Decode.Invocations);
        Assert.AreEqual(0, runner.Timing.Decode.PlanTicks);

        session.Decode(1);
        session.Decode(2);
        Assert.AreEqual(layers, runner.Timing.Prefill.Invocations);
        Assert.AreEqual(2 * layers, runner.Timing.Decode.Invocations);
        Assert.AreEqual(0, runner.Timing.Decode.ApplyTicks, "StreamingLLM makes no decode-time plan, so nothing is applied");

        runner.ResetTiming();
        Assert.AreEqual(default, runner.Timing);
    }
}
