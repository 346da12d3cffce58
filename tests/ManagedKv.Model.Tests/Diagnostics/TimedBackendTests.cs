using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Diagnostics;

/// <summary>
/// The profiling decorator forwards every call unchanged (same logits bit for bit), counts each operation as often
/// as the forward pass issues it, and forwards a backend's press-scoring kernels. No timing is asserted.
/// </summary>
[TestClass]
public sealed class TimedBackendTests
{
    [TestMethod]
    public void ForwardsEveryOperationAndCountsCalls()
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        int[] prompt = [1, 403, 407, 142, 350, 292, 12];
        float[] plain = RunPrefillAndDecode(source, new ReferenceBackend(), prompt, out _);
        var timed = new TimedBackend(new ReferenceBackend());
        float[] profiled = RunPrefillAndDecode(source, timed, prompt, out var profile);
        CollectionAssert.AreEqual(plain, profiled, "a wrapped backend computes the same bits");

        // Two forward calls (a 7-token prefill in one micro-batch, one decode step), 5 layers, no biases:
        // per call Embed 1, per layer 2 RMSNorms + 7 matrix products + 2 RoPEs + 1 append + 1 attention + 1 SwiGLU + 2 adds,
        // then the final norm, output product and download; the prefill also copies its last row twice (before the
        // last FFN and before the output norm), the decode once (before the output norm).
        int layers = source.Config.BlockCount;
        Assert.AreEqual(5, layers);
        Assert.AreEqual(2, profile.Calls(BackendOp.Embed));
        Assert.AreEqual(2 * (2 * layers + 1), profile.Calls(BackendOp.RmsNorm));
        Assert.AreEqual(2 * (7 * layers + 1), profile.Calls(BackendOp.MatMul));
        Assert.AreEqual(2 * 2 * layers, profile.Calls(BackendOp.Rope));
        Assert.AreEqual(2 * layers, profile.Calls(BackendOp.AppendKv));
        Assert.AreEqual(2 * layers, profile.Calls(BackendOp.Attention));
        Assert.AreEqual(2 * layers, profile.Calls(BackendOp.SwiGlu));
        Assert.AreEqual(2 * 2 * layers, profile.Calls(BackendOp.Add));
        Assert.AreEqual(3, profile.Calls(BackendOp.CopyRows));
        Assert.AreEqual(2, profile.Calls(BackendOp.Download));
        Assert.AreEqual(0, profile.Calls(BackendOp.AddBias));
        Assert.AreEqual(0, profile.Calls(BackendOp.PressScoring), "the reference backend has no scoring kernels");
        Assert.AreEqual("reference", timed.Name);

        timed.Reset();
        Assert.AreEqual(0, timed.Snapshot().Calls(BackendOp.MatMul));
        Assert.AreEqual(TimeSpan.Zero, timed.Snapshot().Total);
    }

    [TestMethod]
    public void WaitsForAnAsynchronousBackendBeforeEachClockStops()
    {
        // A GPU queues kernels and returns at once; without a wait per operation the time of the queued work would land
        // on whichever later call happens to block (a download), as it did before this wait existed.
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        var counting = new SynchronizeCountingBackend(new ReferenceBackend());
        var timed = new TimedBackend(counting);
        RunPrefillAndDecode(source, timed, [1, 403, 407], out var profile);
        long timedCalls = BackendProfile.Operations.Sum(op => profile.Calls(op));
        Assert.IsTrue(timedCalls > 0);
        Assert.AreEqual(timedCalls, counting.Synchronizations, "one wait per timed operation");
    }

    [TestMethod]
    public void ForwardsCacheCreationToABackendWithItsOwnCacheStorage()
    {
        // The GPU backend's cache lives in device memory; a wrapper that fell back to the interface's default would
        // hand the forward pass a host cache, and the profiled run would measure a different program.
        var backend = new OwnCacheBackend(new ReferenceBackend());
        var cache = new TimedBackend(backend).CreateCache(2, 1, 4, 4, KvStorageType.F16);
        Assert.AreSame(backend.Created, cache);
    }

    [TestMethod]
    public void ForwardsPressScoringKernelsSoPlansDoNotChange()
    {
        // A 1-layer, 1-head cache of 6 tokens whose key norms rank them 5,4,...,0 for KNorm (lowest norm kept);
        // the fake kernel scores by position instead (later = keep), so which plan comes out shows which scorer ran.
        var cache = new KvCache(layers: 1, kvHeads: 1, keyDim: 1, valueDim: 1);
        for (int t = 0; t < 6; t++) cache.Append(0, 0, t, [t + 1], [t]);
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        var press = new KnormPress { Budget = new CompressionBudget { Compression = 0.5 }, SkipLayers = 0 };
        var kernel = new PositionScoringBackend();
        var timed = new TimedBackend(kernel);

        var bare = (KeepPlan)press.CompressPrefill(new PressContext(0, cache, source.Config, CompressionPhase.Prefill, kernel))!;
        var wrapped = (KeepPlan)press.CompressPrefill(new PressContext(0, cache, source.Config, CompressionPhase.Prefill, timed))!;
        var scalar = (KeepPlan)press.CompressPrefill(new PressContext(0, cache, source.Config, CompressionPhase.Prefill, new TimedBackend(new ReferenceBackend())))!;

        CollectionAssert.AreEqual(new[] { 3, 4, 5 }, bare.KeepPerHead[0], "the kernel's scores");
        CollectionAssert.AreEqual(bare.KeepPerHead[0], wrapped.KeepPerHead[0], "the wrapped backend's kernel ran");
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, scalar.KeepPerHead[0], "no kernel behind the wrapper: the press's own scores");
        Assert.AreEqual(1, timed.Snapshot().Calls(BackendOp.PressScoring));
        Assert.AreEqual(2, kernel.Calls);
    }

    private static float[] RunPrefillAndDecode(ModelSource source, IBackend backend, int[] prompt, out BackendProfile profile)
    {
        using var model = new Transformer(source, backend);
        var session = new Session(model);
        session.Prefill(prompt);
        float[] logits = session.Decode(Sampling.Sampler.ArgMax(session.Logits)).ToArray();
        profile = backend is TimedBackend timed ? timed.Snapshot() : null!;
        backend.Dispose();
        return logits;
    }

    /// <summary>Creates its own caches and remembers the last.</summary>
    private sealed class OwnCacheBackend(IBackend inner) : DelegatingBackend(inner)
    {
        public KvCache? Created { get; private set; }

        public override KvCache CreateCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage) =>
            Created = new KvCache(layers, kvHeads, keyDim, valueDim, storage);
    }

    /// <summary>Counts the waits the profiler asks for.</summary>
    private sealed class SynchronizeCountingBackend(IBackend inner) : DelegatingBackend(inner)
    {
        public int Synchronizations { get; private set; }

        public override void Synchronize() => Synchronizations++;
    }

    /// <summary>A backend that only has a press-scoring kernel (score = token index); its forward operations are not used.</summary>
    private sealed class PositionScoringBackend : IBackend, IPressScoring
    {
        public int Calls { get; private set; }

        public string Name => "scoring-only";

        public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores)
        {
            Calls++;
            for (int i = 0; i < scores.Length; i++) scores[i] = i;
            return true;
        }

        public DeviceTensor Allocate(int rows, int cols) => throw new NotSupportedException();
        public DeviceWeight PrepareWeight(TensorView view) => throw new NotSupportedException();
        public void Download(DeviceTensor source, int rows, Span<float> destination) => throw new NotSupportedException();
        public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x) => throw new NotSupportedException();
        public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y) => throw new NotSupportedException();
        public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y) => throw new NotSupportedException();
        public void AddBias(DeviceTensor y, DeviceWeight bias, int rows) => throw new NotSupportedException();
        public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope) => throw new NotSupportedException();
        public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions) => throw new NotSupportedException();
        public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
            AttentionStatistics? statistics = null) => throw new NotSupportedException();
        public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows) => throw new NotSupportedException();
        public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count) => throw new NotSupportedException();
        public void Add(DeviceTensor x, DeviceTensor y, int rows) => throw new NotSupportedException();
        public void Dispose() { }
    }
}
