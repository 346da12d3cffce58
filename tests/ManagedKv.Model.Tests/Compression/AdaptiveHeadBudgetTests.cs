using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// AdaKV's adaptive head budgets (<see cref="HeadBudget.Adaptive"/>) on hand-made scores whose answer is worked out
/// below: the safeguard, the global top-k across heads, ties, forced tokens, and the ragged cache it leaves.
/// </summary>
[TestClass]
public sealed class AdaptiveHeadBudgetTests
{
    private static readonly ReadOnlyMemory<float>[] TwoHeads =
    [
        new float[] { 9, 8, 7, 6, 5, 4 },
        new float[] { 1, 2, 3, 0.5f, 0.1f, 0.2f },
    ];

    [TestMethod]
    public void SafeguardThenGlobalTopK()
    {
        // Budget 3 + 3 = 6. Safeguard ⌊0.5·3⌋ = 1 per head: head 0 keeps token 0 (9), head 1 token 2 (3). The other
        // 4 go to the best remaining scores across heads: 8, 7, 6, 5, all in head 0 (head 1's best left is 2).
        var keep = TokenSelection.SelectAcrossHeads(TwoHeads, [3, 3], alpha: 0.5);
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 4 }, keep[0]);
        CollectionAssert.AreEqual(new[] { 2 }, keep[1]);
    }

    [TestMethod]
    public void AlphaOneIsTheUniformSplitAndAlphaZeroThePureGlobalTopK()
    {
        var uniform = TokenSelection.SelectAcrossHeads(TwoHeads, [3, 3], alpha: 1);
        for (int h = 0; h < 2; h++) CollectionAssert.AreEqual(TokenSelection.Select(TwoHeads[h].Span, 3), uniform[h], $"head {h}");
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, uniform[1], "head 1's best three: 3, 2, 1");

        // No safeguard: the 6 best of all 12 scores are head 0's six.
        var global = TokenSelection.SelectAcrossHeads(TwoHeads, [3, 3], alpha: 0);
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 4, 5 }, global[0]);
        Assert.AreEqual(0, global[1].Length);
    }

    [TestMethod]
    public void ForcedTokensCountInTheSafeguardAndTiesGoToTheLowerHead()
    {
        ReadOnlyMemory<float>[] scores = [new float[] { 5, 5, 1, 1, 0 }, new float[] { 5, 5, 1, 1, 9 }];
        // recent = 1 forces token 4 in both heads; it fills each head's safeguard (⌊0.5·3⌋ = 1, ⌊0.5·2⌋ = 1). Budget
        // 3 + 2 = 5, 2 forced, 3 left: the four 5s tie; head 0's two come first, then head 1's token 0.
        var keep = TokenSelection.SelectAcrossHeads(scores, [3, 2], alpha: 0.5, recent: 1);
        CollectionAssert.AreEqual(new[] { 0, 1, 4 }, keep[0]);
        CollectionAssert.AreEqual(new[] { 0, 4 }, keep[1]);
    }

    [TestMethod]
    public void KnormWithAdaptiveBudgetLeavesARaggedSmallerCache()
    {
        var cache = new KvCache(layers: 1, kvHeads: 2, keyDim: 2, valueDim: 1);
        // Key norms: head 0 → 1, 2, 3, 4; head 1 → 10, 20, 30, 40. KNorm scores −norm.
        for (int t = 0; t < 4; t++)
        {
            cache.Append(0, 0, t, [t + 1, 0], [t]);
            cache.Append(0, 1, t, [0, 10 * (t + 1)], [t]);
        }
        long full = cache.ByteCount;
        var press = (ScorerPress)PressRegistry.Get("knorm").Create(new CompressionBudget { Compression = 0.5 },
            new Dictionary<string, string> { ["head_budget"] = "adaptive", ["alpha_safeguard"] = "0.5", ["skip_layers"] = "0" });
        Assert.AreEqual(HeadBudget.Adaptive, press.Budget.HeadBudget);
        using var source = ModelSource.Open(TestData.Path("stories260K.gguf"));
        // Budget 2 + 2; safeguard 1 each (token 0 of both heads); the 2 left go to −2 and −3, both in head 0.
        var plan = (KeepPlan)press.CompressPrefill(new PressContext(0, cache, source.Config, CompressionPhase.Prefill))!;
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, plan.KeepPerHead[0]);
        CollectionAssert.AreEqual(new[] { 0 }, plan.KeepPerHead[1]);
        cache.Apply(plan);
        Assert.AreEqual(3, cache.Head(0, 0).Count);
        Assert.AreEqual(1, cache.Head(0, 1).Count);
        Assert.AreEqual(full / 2, cache.ByteCount, "4 of 8 tokens held, each costing the same bytes");
    }

    [TestMethod]
    public void HeadBudgetArgumentsAreCheckedAndOnlyScorerPressesTakeThem()
    {
        var budget = new CompressionBudget { Compression = 0.5 };
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("h2o").Create(budget, new Dictionary<string, string> { ["head_budget"] = "adaptive" }));
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("snapkv").Create(budget, new Dictionary<string, string> { ["head_budget"] = "per-layer" }));
        Assert.ThrowsExactly<ArgumentException>(() => PressRegistry.Get("snapkv").Create(budget, new Dictionary<string, string> { ["alpha_safeguard"] = "1.5" }));
        var uniform = (ScorerPress)PressRegistry.Get("snapkv").Create(budget);
        Assert.AreEqual(HeadBudget.Uniform, uniform.Budget.HeadBudget);
        Assert.AreEqual(0.2, uniform.Budget.AlphaSafeguard);
    }
}
