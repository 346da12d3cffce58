using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using static ManagedKv.Model.Tests.Compression.AttentionFixture;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// H2O on one KV head read by two query heads, a token budget of 3 and recent = 0.34 (int(3·0.34) = 1 recent token):
/// a 4-token prefill, then three decode steps, every accumulator and choice worked out by hand below.
/// </summary>
[TestClass]
public sealed class H2OPressTests
{
    // Prefill, positions 0–3, every query counted. Per-query probabilities (rows: queries 0–3):
    //   head 0: [1], [.5 .5], [.2 .6 .2], [.1 .2 .3 .4]  → sums 1.8, 1.3, 0.5, 0.4
    //   head 1: [1], [.9 .1], [.4 .2 .4], [.5 .1 .1 .3]  → sums 2.8, 0.4, 0.5, 0.3
    // Group mean S = 2.3, 0.85, 0.5, 0.35; queries that saw each token N = 4, 3, 2, 1;
    // scores S/N = 0.575, 0.283333, 0.25, 0.35. Token 3 is the recent window; the best two others are 0 and 1.
    private static readonly float[] Prefill0 = [1.8f, 1.3f, 0.5f, 0.4f];
    private static readonly float[] Prefill1 = [2.8f, 0.4f, 0.5f, 0.3f];

    // Decode steps: (new position, head-0 probabilities, head-1 probabilities) over the tokens held after the append.
    private static readonly (int Position, float[] Head0, float[] Head1)[] Steps =
    [
        // Held 0, 1, 3, 4. Mean 0.2, 0.2, 0.2, 0.4 → S = 2.5, 1.05, 0.55, 0.4; N = 5, 4, 2, 1;
        // scores 0.5, 0.2625, 0.275, 0.4: keep 4 (recent) + 0 and 3; position 1 goes.
        (4, [0.1f, 0.1f, 0.2f, 0.6f], [0.3f, 0.3f, 0.2f, 0.2f]),
        // Held 0, 3, 4, 5. Mean 0.05, 0.15, 0.2, 0.6 → S = 2.55, 0.7, 0.6, 0.6; N = 6, 3, 2, 1;
        // scores 0.425, 0.233333, 0.3, 0.6: keep 5 + 0 and 4; position 3 goes.
        (5, [0.05f, 0.05f, 0.1f, 0.8f], [0.05f, 0.25f, 0.3f, 0.4f]),
        // Held 0, 4, 5, 6. Mean 0.2, 0.1, 0.2, 0.5 → S = 2.75, 0.7, 0.8, 0.5; N = 7, 3, 2, 1;
        // scores 0.392857, 0.233333, 0.4, 0.5: keep 6 + 5 and 0; position 4 goes.
        (6, [0.1f, 0.1f, 0.1f, 0.7f], [0.3f, 0.1f, 0.3f, 0.3f]),
    ];

    [TestMethod]
    public void AccumulatesAttentionThroughDecodingAndKeepsAFixedSizeCache()
    {
        var press = new H2OPress { Budget = new CompressionBudget { TokenBudget = 3 }, Recent = 0.34 };
        var cache = HandCache([0, 1, 2, 3]);
        var plan = press.CompressPrefill(Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 4), 0, Prefill0, Prefill1)));
        cache.Apply(plan!);
        CollectionAssert.AreEqual(new[] { 0, 1, 3 }, Positions(cache));
        AssertClose([2.3, 0.85, 0.35], press.AccumulatedAttention(0, 0));
        Assert.AreEqual(3, press.DecodeCapacity(0));

        int[][] expectedPositions = [[0, 3, 4], [0, 4, 5], [0, 5, 6]];
        double[][] expectedSums = [[2.5, 0.55, 0.4], [2.55, 0.6, 0.6], [2.75, 0.8, 0.5]];
        for (int s = 0; s < Steps.Length; s++)
        {
            var (position, head0, head1) = Steps[s];
            Append(cache, 0, position);
            var step = press.CompressDecode(Context(cache, CompressionPhase.Decode,
                Statistics(new PositionRange(position, position + 1), position, head0, head1)));
            cache.Apply(step!);
            CollectionAssert.AreEqual(expectedPositions[s], Positions(cache), $"step {s}");
            AssertClose(expectedSums[s], press.AccumulatedAttention(0, 0));
        }
    }

    [TestMethod]
    public void RawSumsFavourOldTokens()
    {
        // normalize=false scores by S itself: the prefill keeps 0, 1, 3 as before (2.3, 0.85 beat 0.5), but at the first
        // decode step S = 2.5, 1.05, 0.55 keeps position 1 (1.05) over position 3 (0.55).
        var press = new H2OPress { Budget = new CompressionBudget { TokenBudget = 3 }, Recent = 0.34, Normalize = false };
        var cache = HandCache([0, 1, 2, 3]);
        cache.Apply(press.CompressPrefill(Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 4), 0, Prefill0, Prefill1)))!);
        var (position, head0, head1) = Steps[0];
        Append(cache, 0, position);
        cache.Apply(press.CompressDecode(Context(cache, CompressionPhase.Decode, Statistics(new PositionRange(4, 5), 4, head0, head1)))!);
        CollectionAssert.AreEqual(new[] { 0, 1, 4 }, Positions(cache));
    }

    [TestMethod]
    public void RatioBudgetSetsTheDecodeCapacityAndBelowItNothingIsEvicted()
    {
        // Compression 0.5 of 4 tokens keeps int(4·0.5) = 2 with int(2·0.5) = 1 recent: token 3 + the best score (0).
        var press = new H2OPress { Budget = new CompressionBudget { Compression = 0.5 } };
        var cache = HandCache([0, 1, 2, 3]);
        cache.Apply(press.CompressPrefill(Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 4), 0, Prefill0, Prefill1)))!);
        CollectionAssert.AreEqual(new[] { 0, 3 }, Positions(cache));
        Assert.AreEqual(2, press.DecodeCapacity(0));

        // A token budget above the held count lets the cache grow (accumulating) until it is reached.
        var roomy = new H2OPress { Budget = new CompressionBudget { TokenBudget = 5 } };
        var big = HandCache([0, 1, 2, 3]);
        Assert.IsNull(roomy.CompressPrefill(Context(big, CompressionPhase.Prefill, Statistics(new PositionRange(0, 4), 0, Prefill0, Prefill1))));
        Append(big, 0, 4);
        // Mean of (.1 .1 .2 .2 .4) and (.2 .2 .2 .2 .2) = .15 .15 .2 .2 .3, added to S = 2.3, .85, .5, .35 (and 0 for the new token).
        Assert.IsNull(roomy.CompressDecode(Context(big, CompressionPhase.Decode,
            Statistics(new PositionRange(4, 5), 4, [0.1f, 0.1f, 0.2f, 0.2f, 0.4f], [0.2f, 0.2f, 0.2f, 0.2f, 0.2f]))));
        AssertClose([2.45, 1.0, 0.7, 0.55, 0.3], roomy.AccumulatedAttention(0, 0));
        Assert.AreEqual(5, Positions(big).Length);
    }

    [TestMethod]
    public void StartsOverWhenTheCacheNoLongerHoldsTheTrackedTokens()
    {
        var press = new H2OPress { Budget = new CompressionBudget { TokenBudget = 3 }, Recent = 0.34 };
        var cache = HandCache([0, 1, 2, 3]);
        cache.Apply(press.CompressPrefill(Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 4), 0, Prefill0, Prefill1)))!);

        // The session is reset and the same prompt prefilled again: the plan is a fresh press's, not polluted by old sums.
        cache.Clear();
        foreach (int p in new[] { 0, 1, 2, 3 }) Append(cache, 0, p);
        var again = (KeepPlan)press.CompressPrefill(Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 4), 0, Prefill0, Prefill1)))!;
        CollectionAssert.AreEqual(new[] { 0, 1, 3 }, again.KeepPerHead[0]);
        AssertClose([2.3, 0.85, 0.35], press.AccumulatedAttention(0, 0));
    }
}
