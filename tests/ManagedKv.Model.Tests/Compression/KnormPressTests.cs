using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>KNorm on hand-made keys whose norms are known: the lowest-norm tokens survive, per head.</summary>
[TestClass]
public sealed class KnormPressTests
{
    [TestMethod]
    public void KeepsLowestKeyNormsPerHeadAndSkipsEarlyLayers()
    {
        var cache = new KvCache(layers: 3, kvHeads: 2, keyDim: 2, valueDim: 1);
        // Head 0 norms: 5, 1, 3, 2 → keep {1, 3} (norms 1 and 2). Head 1 norms: 1, 4, 0, 9 → keep {0, 2}.
        float[][] head0 = [[3, 4], [1, 0], [0, 3], [0, 2]];
        float[][] head1 = [[1, 0], [0, 4], [0, 0], [9, 0]];
        for (int layer = 0; layer < 3; layer++)
            for (int t = 0; t < 4; t++)
            {
                cache.Append(layer, 0, t, head0[t], [t]);
                cache.Append(layer, 1, t, head1[t], [t]);
            }
        var press = new KnormPress { Budget = new CompressionBudget { Compression = 0.5 }, SkipLayers = 2 };
        var config = Config();
        Assert.IsNull(press.CompressPrefill(new PressContext(1, cache, config, CompressionPhase.Prefill)), "layer 1 is skipped");
        var plan = (KeepPlan)press.CompressPrefill(new PressContext(2, cache, config, CompressionPhase.Prefill))!;
        CollectionAssert.AreEqual(new[] { 1, 3 }, plan.KeepPerHead[0]);
        CollectionAssert.AreEqual(new[] { 0, 2 }, plan.KeepPerHead[1]);

        cache.Apply(plan);
        CollectionAssert.AreEqual(new[] { 1, 3 }, cache.Head(2, 0).Positions.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 2 }, cache.Head(2, 1).Positions.ToArray());
        var value = new float[1];
        cache.Head(2, 1).Values.Read(1, value);
        Assert.AreEqual(2f, value[0], "values travel with their keys");
        Assert.AreEqual(4, cache.Head(1, 0).Count, "other layers untouched");
    }

    private static ModelConfig Config()
    {
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        return source.Config;
    }
}
