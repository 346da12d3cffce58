using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>MiniCache's layer pairing, registry entry, and runs on the real models (stories260K: 5 layers; tiny-llama: 2).</summary>
[TestClass]
public sealed class MiniCachePressTests
{
    [TestMethod]
    [DataRow(5, -1, "2-3")]
    [DataRow(8, -1, "4-5 6-7")]
    [DataRow(7, -1, "3-4 5-6")]
    [DataRow(2, -1, "")]
    [DataRow(1, -1, "")]
    [DataRow(2, 0, "0-1")]
    [DataRow(5, 4, "")]
    public void PairsAdjacentLayersFromHalfDepth(int layers, int start, string expected)
    {
        var pairs = new MiniCachePress { StartLayer = start }.Pairs(layers);
        Assert.AreEqual(expected, string.Join(' ', pairs.Select(p => $"{p.Lower}-{p.Upper}")));
    }

    [TestMethod]
    public void RegistryCreatesItWithTypedParametersAndIgnoresTheBudget()
    {
        var descriptor = PressRegistry.Get("minicache");
        var press = (MiniCachePress)descriptor.Create(new CompressionBudget { Compression = 0.875 }, new Dictionary<string, string> { ["t"] = "0.5", ["gamma"] = "0.1" });
        Assert.AreEqual((0.5, 0.1, -1), (press.T, press.Gamma, press.StartLayer));
        var defaults = (MiniCachePress)descriptor.Create(new CompressionBudget { TokenBudget = 3 });
        Assert.AreEqual((0.6, 0.05, -1), (defaults.T, defaults.Gamma, defaults.StartLayer));
        StringAssert.Contains(descriptor.Summary, "ignores the compression ratio");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["gamma"] = "1.5" }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["t"] = "-0.1" }));
        Assert.ThrowsExactly<ArgumentException>(() => descriptor.Create(new CompressionBudget(), new Dictionary<string, string> { ["ratio"] = "2" }));
    }

    [TestMethod]
    public void Stories260KMergesLayers2And3AfterTheirPrefillAndDecodes()
    {
        var golden = LlamaCppGolden.Load("stories260K");
        using var source = ModelSource.Open(golden.ModelPath);
        using var model = new Transformer(source, new ReferenceBackend());
        int[] prompt = golden.PromptTokens("story");

        var full = new Session(model);
        float[] fullLogits = full.Prefill(prompt).ToArray();
        var runner = new PressRunner(source.Config, [new MiniCachePress()]) { Record = true };
        var merged = new Session(model) { Compression = runner };
        float[] mergedLogits = merged.Prefill(prompt).ToArray();

        // The merge happens after layer 3's prefill, so the prompt's own attention saw the full cache.
        CollectionAssert.AreEqual(fullLogits, mergedLogits);
        var plan = (MergePlan)runner.History.Single();
        Assert.AreEqual((3, 2, 0.6), (plan.Layer, plan.LowerLayer, plan.T));
        int rows = source.Config.KvHeadCount * prompt.Length;
        Assert.AreEqual(rows / 20, plan.RetainedKeyCount, "⌊0.05 · heads · tokens⌋");
        Assert.AreEqual(rows / 20, plan.RetainedValueCount);

        var cache = merged.Cache;
        for (int l = 0; l < cache.LayerCount; l++)
            for (int h = 0; h < cache.KvHeadCount; h++)
                Assert.AreEqual(l is 2 or 3, cache.Head(l, h).Keys is MergedKvRows && cache.Head(l, h).Values is MergedKvRows, $"layer {l} head {h}");
        Assert.IsTrue(cache.ByteCount < full.Cache.ByteCount);
        Assert.IsTrue(cache.AllocatedBytes < full.Cache.AllocatedBytes);
        AssertRestoredGeometry(full.Cache, cache, plan);

        // Decoding after the merge: new tokens are appended whole to both layers and stay near the full cache.
        int fullToken = Model.Sampling.Sampler.ArgMax(fullLogits), token = fullToken;
        for (int step = 0; step < 6; step++)
        {
            float[] f = full.Decode(fullToken).ToArray();
            float[] m = merged.Decode(token).ToArray();
            Assert.IsTrue(m.All(float.IsFinite), $"step {step}");
            // Measured 0.978 (γ = 1 gives 1: the matrix's lossless check); a broken restoration falls far below.
            if (step == 0) Assert.IsTrue(Cosine(f, m) > 0.97, $"first decoded logits: cosine {Cosine(f, m)} to the full cache's");
            fullToken = Model.Sampling.Sampler.ArgMax(f);
            token = Model.Sampling.Sampler.ArgMax(m);
        }
        var keys = (MergedKvRows)cache.Head(3, 0).Keys;
        Assert.AreEqual(6, keys.AppendedCount);
        Assert.AreEqual(prompt.Length + 6, keys.Count);
        Assert.AreEqual(prompt.Length + 6, cache.Head(3, 0).Positions[^1] + 1);
        CollectionAssert.AreEqual(cache.Head(2, 0).Positions.ToArray(), cache.Head(3, 0).Positions.ToArray());
    }

    [TestMethod]
    public void TinyLlamaHasNoPairAtHalfDepthButMergesFromLayer0WhenAsked()
    {
        var golden = LlamaCppGolden.Load("tiny-llama-F32");
        using var source = ModelSource.Open(golden.ModelPath);
        using var model = new Transformer(source, new ReferenceBackend());
        int[] prompt = golden.PromptTokens("story");

        var halfDepth = new PressRunner(source.Config, [new MiniCachePress()]) { Record = true };
        var session = new Session(model) { Compression = halfDepth };
        session.Prefill(prompt);
        Assert.AreEqual(0, halfDepth.History.Count, "2 layers: layer 1 has no partner");
        Assert.AreEqual(session.Cache.FullCacheBytes, session.Cache.ByteCount);

        var fromZero = new PressRunner(source.Config, [new MiniCachePress { StartLayer = 0 }]) { Record = true };
        var merged = new Session(model) { Compression = fromZero };
        int token = Model.Sampling.Sampler.ArgMax(merged.Prefill(prompt));
        var plan = (MergePlan)fromZero.History.Single();
        Assert.AreEqual((1, 0), (plan.Layer, plan.LowerLayer));
        Assert.IsTrue(merged.Cache.ByteCount < merged.Cache.FullCacheBytes);
        for (int step = 0; step < 3; step++)
        {
            var logits = merged.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite));
            token = Model.Sampling.Sampler.ArgMax(logits);
        }
    }

    /// <summary>
    /// Against the full cache's rows of the same prompt: retained rows are bit-exact; a merged row keeps its norm
    /// and lies on the great circle between the two layers' rows, at tΩ from the lower layer's and (1−t)Ω from the
    /// upper layer's.
    /// </summary>
    private static void AssertRestoredGeometry(KvCache full, KvCache merged, MergePlan plan)
    {
        int width = full.KeyDim;
        float[] x1 = new float[width], x2 = new float[width], r1 = new float[width], r2 = new float[width];
        int checkedRows = 0;
        for (int h = 0; h < full.KvHeadCount; h++)
            for (int i = 0; i < full.Head(plan.Layer, h).Count; i++)
            {
                full.Head(plan.LowerLayer, h).Keys.Read(i, x1);
                full.Head(plan.Layer, h).Keys.Read(i, x2);
                merged.Head(plan.LowerLayer, h).Keys.Read(i, r1);
                merged.Head(plan.Layer, h).Keys.Read(i, r2);
                if (plan.RetainedKeys[h].Contains(i))
                {
                    CollectionAssert.AreEqual(x1, r1);
                    CollectionAssert.AreEqual(x2, r2);
                    continue;
                }
                double omega = Slerp.Angle(x1, x2);
                Assert.AreEqual(Slerp.Norm(x1), Slerp.Norm(r1), 1e-5 * Slerp.Norm(x1), $"head {h} token {i}");
                Assert.AreEqual(Slerp.Norm(x2), Slerp.Norm(r2), 1e-5 * Slerp.Norm(x2), $"head {h} token {i}");
                Assert.AreEqual(plan.T * omega, Slerp.Angle(x1, r1), 2e-3, $"head {h} token {i}: angle to the lower row");
                Assert.AreEqual((1 - plan.T) * omega, Slerp.Angle(x2, r2), 2e-3, $"head {h} token {i}: angle to the upper row");
                checkedRows++;
            }
        Assert.AreEqual(full.KvHeadCount * full.Head(plan.Layer, 0).Count - plan.RetainedKeyCount, checkedRows);
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
