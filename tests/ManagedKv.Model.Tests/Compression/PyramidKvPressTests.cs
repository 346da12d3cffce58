using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>PyramidKV's per-layer budgets, worked out by hand from kvpress's get_layer_budget (β = 20).</summary>
[TestClass]
public sealed class PyramidKvPressTests
{
    private static int[] Budgets(double ratio, int window, int layers, int tokens, int? tokenBudget = null)
    {
        var press = new PyramidKvPress { Window = window, Budget = new CompressionBudget { Compression = ratio, TokenBudget = tokenBudget } };
        return Enumerable.Range(0, layers).Select(l => press.LayerBudget(l, layers, tokens)).ToArray();
    }

    [TestMethod]
    public void LinearBudgetWithoutClamping()
    {
        // q_len 1000, ratio 0.8, window 4: max_cap = 4 + 200 = 204; min = 200/20 = 10; max = 2·200 − 10 = 390 < 996.
        // 1000 ≥ 390 ≥ 10 ≥ 4: steps = 380/4 = 95 → 390, 295, 200, 105, 10 (mean 200 = q_len·(1 − ratio)).
        CollectionAssert.AreEqual(new[] { 390, 295, 200, 105, 10 }, Budgets(0.8, 4, 5, 1000));
        // The same mean as a token budget of 200.
        CollectionAssert.AreEqual(new[] { 390, 295, 200, 105, 10 }, Budgets(0, 4, 5, 1000, tokenBudget: 200));
    }

    [TestMethod]
    public void MaxNumClampedToTheTokensOutsideTheWindow()
    {
        // q_len 1000, ratio 0.5, window 64: max_cap = 564; min = 500/20 = 25; max = 1000 − 25 = 975 ≥ 936 = q_len − window,
        // so max = 936 and min = 1000 − 936 = 64. 1000 ≥ 936 ≥ 64 ≥ 64: steps = 872/4 = 218.
        CollectionAssert.AreEqual(new[] { 936, 718, 500, 282, 64 }, Budgets(0.5, 64, 5, 1000));
        // The matrix prompt: q_len 201, ratio 0.5: max_cap = 164.5; max = 201 − 5.025 clamped to 137, min = 201 − 137 = 64;
        // steps = 73/4 = 18.25 → 137, 118.75, 100.5, 82.25, 64 → 137, 119, 100 (half to even), 82, 64.
        CollectionAssert.AreEqual(new[] { 137, 119, 100, 82, 64 }, Budgets(0.5, 64, 5, 201));
    }

    [TestMethod]
    public void RoundsHalvesToEvenLikePython()
    {
        // q_len 1000, ratio 0.75, window 4, 2 layers: max_cap = 254; min = 12.5; max = 487.5; steps = 475.
        // round(487.5) = 488, round(12.5) = 12.
        CollectionAssert.AreEqual(new[] { 488, 12 }, Budgets(0.75, 4, 2, 1000));
    }

    [TestMethod]
    public void FallsBackToSnapKvWhenInfeasible()
    {
        // q_len 1000, ratio 0.75, window 64: min = 250/20 = 12.5 < 64 → every layer round(250) = 250.
        CollectionAssert.AreEqual(new[] { 250, 250, 250 }, Budgets(0.75, 64, 3, 1000));
        // Compression 0: max = 936, min = 2000 − 936 = 1064 > max → round(1000): the full cache.
        CollectionAssert.AreEqual(new[] { 1000, 1000 }, Budgets(0, 64, 2, 1000));
        // One layer: the SnapKV budget.
        CollectionAssert.AreEqual(new[] { 500 }, Budgets(0.5, 4, 1, 1000));
    }
}
