using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>Per-layer ratios (<c>layer_compression</c>, kvpress's PerLayerCompressionPress) on a hand-made cache.</summary>
[TestClass]
public sealed class LayerBudgetTests
{
    [TestMethod]
    public void EachLayerKeepsItsOwnFraction()
    {
        var cache = new KvCache(layers: 3, kvHeads: 1, keyDim: 1, valueDim: 1);
        // Key norms 4, 1, 3, 2 in every layer: KNorm ranks tokens 1, 3, 2, 0.
        float[] norms = [4, 1, 3, 2];
        for (int layer = 0; layer < 3; layer++)
            for (int t = 0; t < 4; t++) cache.Append(layer, 0, t, [norms[t]], [t]);
        var press = (ScorerPress)PressRegistry.Get("knorm").Create(new CompressionBudget { Compression = 0.5 },
            new Dictionary<string, string> { ["layer_compression"] = "0, 0.5,0.75", ["skip_layers"] = "0" });
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        // Layer 0: ratio 0 keeps int(4·1) = 4 (no plan); layer 1: int(4·0.5) = 2 → {1, 3}; layer 2: int(4·0.25) = 1 → {1}.
        Assert.IsNull(press.CompressPrefill(new PressContext(0, cache, source.Config, CompressionPhase.Prefill)));
        CollectionAssert.AreEqual(new[] { 1, 3 }, ((KeepPlan)press.CompressPrefill(new PressContext(1, cache, source.Config, CompressionPhase.Prefill))!).KeepPerHead[0]);
        CollectionAssert.AreEqual(new[] { 1 }, ((KeepPlan)press.CompressPrefill(new PressContext(2, cache, source.Config, CompressionPhase.Prefill))!).KeepPerHead[0]);
    }

    [TestMethod]
    public void BadPerLayerRatiosAreRejected()
    {
        var ratio = new CompressionBudget { Compression = 0.5 };
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("snapkv").Create(ratio, new Dictionary<string, string> { ["layer_compression"] = "0.5,x" }));
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("snapkv").Create(ratio, new Dictionary<string, string> { ["layer_compression"] = "0.5,1" }));
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("knorm").Create(new CompressionBudget { TokenBudget = 8 },
            new Dictionary<string, string> { ["layer_compression"] = "0.5" }));
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("pyramidkv").Create(ratio, new Dictionary<string, string> { ["layer_compression"] = "0.5" }),
            "PyramidKV's pyramid is its per-layer budget");
        // Too few ratios for the model: a clear error when the missing layer is reached.
        var press = (ScorerPress)PressRegistry.Get("streaming_llm").Create(ratio, new Dictionary<string, string> { ["layer_compression"] = "0.5" });
        var cache = new KvCache(layers: 2, kvHeads: 1, keyDim: 1, valueDim: 1);
        for (int t = 0; t < 8; t++) cache.Append(1, 0, t, [t], [t]);
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => press.CompressPrefill(new PressContext(1, cache, source.Config, CompressionPhase.Prefill)));
        StringAssert.Contains(e.Message, "layer 1");
    }
}
