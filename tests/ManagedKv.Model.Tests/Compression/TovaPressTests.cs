using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using static ManagedKv.Model.Tests.Compression.AttentionFixture;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// TOVA on two KV heads read by four query heads (group 2): the last query's attention averaged over all four
/// heads decides for both KV heads; decoding keeps the prefill's size, evicting the lowest each step.
/// </summary>
[TestClass]
public sealed class TovaPressTests
{
    // Last query (position 4) over tokens 0–4:
    //   head 0: .4 .1 .2 .1 .2   head 1: .1 .1 .5 .1 .2   head 2: .1 .3 .1 .2 .3   head 3: .2 .1 .04 .26 .4
    // Mean over the four heads: .2, .15, .21, .165, .275. Keep int(5·0.6) = 3: token 4 (the newest) + 2 and 0.
    // Per group instead, KV head 1 (heads 2, 3) would rank .15, .2, .07, .23 and keep 1 and 3.
    private static readonly float[][] Prefill =
    [
        [0.4f, 0.1f, 0.2f, 0.1f, 0.2f],
        [0.1f, 0.1f, 0.5f, 0.1f, 0.2f],
        [0.1f, 0.3f, 0.1f, 0.2f, 0.3f],
        [0.2f, 0.1f, 0.04f, 0.26f, 0.4f],
    ];

    [TestMethod]
    public void EveryKvHeadKeepsWhatTheHeadAveragedLastQueryAttendsTo()
    {
        var press = new TovaPress { Budget = new CompressionBudget { Compression = 0.4 } };
        var cache = HandCache([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]);
        var context = Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 5), 4, Prefill));
        var scores = new float[5];
        press.Score(context, 1, scores);
        AssertClose([0.2, 0.15, 0.21, 0.165, 0.275], scores);
        var plan = (KeepPlan)press.CompressPrefill(context)!;
        CollectionAssert.AreEqual(new[] { 0, 2, 4 }, plan.KeepPerHead[0]);
        CollectionAssert.AreEqual(new[] { 0, 2, 4 }, plan.KeepPerHead[1]);
        Assert.AreEqual(3, press.DecodeCapacity(0));
        Assert.AreEqual(4, ((IKvPress)press).AttentionQueryStart(CompressionPhase.Prefill, 0, new PositionRange(0, 5)), "the last query only");

        // Decode: position 5 joins both heads (held 0, 2, 4, 5). New query's attention:
        //   head 0: .1 .2 .3 .4   head 1: .1 .4 .1 .4   head 2: .3 .1 .2 .4   head 3: .1 .1 .4 .4
        // Mean .15, .2, .25, .4: keep 5 (newest) + 4 and 2; position 0 goes. Capacity stays 3.
        cache.Apply(plan);
        Append(cache, 0, 5);
        Append(cache, 1, 5);
        var step = (KeepPlan)press.CompressDecode(Context(cache, CompressionPhase.Decode, Statistics(new PositionRange(5, 6), 5,
            [0.1f, 0.2f, 0.3f, 0.4f], [0.1f, 0.4f, 0.1f, 0.4f], [0.3f, 0.1f, 0.2f, 0.4f], [0.1f, 0.1f, 0.4f, 0.4f])))!;
        CollectionAssert.AreEqual(new[] { 1, 2, 3 }, step.KeepPerHead[0]);
        cache.Apply(step);
        CollectionAssert.AreEqual(new[] { 2, 4, 5 }, Positions(cache, 0));
        CollectionAssert.AreEqual(new[] { 2, 4, 5 }, Positions(cache, 1));
    }

    [TestMethod]
    public void HeadsHoldingDifferentTokensAverageTheirOwnGroup()
    {
        // KV head 1 holds position 5 instead of 4, so the four heads' entries do not index the same tokens.
        var cache = HandCache([0, 1, 2, 3, 4], [0, 1, 2, 3, 5]);
        var context = Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 6), 5, Prefill));
        var scores = new float[5];
        var press = new TovaPress { Budget = new CompressionBudget { Compression = 0.4 } };
        press.Score(context, 1, scores);
        AssertClose([0.15, 0.2, 0.07, 0.23, 0.35], scores);
        press.Score(context, 0, scores);
        AssertClose([0.25, 0.1, 0.35, 0.1, 0.2], scores);
    }
}
