using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;
using static ManagedKv.Model.Tests.Compression.AttentionFixture;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>SnapKV's scoring worked out by hand: window-query mean, GQA mean, average pooling, the window kept.</summary>
[TestClass]
public sealed class SnapKvPressTests
{
    [TestMethod]
    public void AveragePoolPadsWithZerosAndDividesByTheKernel()
    {
        // Kernel 5, padding 2: out[0] = (0+0+1+2+3)/5, out[1] = (0+1+2+3+4)/5, out[2] = 15/5, out[3] = 20/5,
        // out[4] = (3+4+5+6+0)/5, out[5] = (4+5+6+0+0)/5.
        var output = new float[6];
        AttentionScores.AveragePool([1, 2, 3, 4, 5, 6], 5, output);
        AssertClose([1.2, 2.0, 3.0, 4.0, 3.6, 3.0], output);

        // Kernel 1 is the identity; a kernel longer than the input still divides by the kernel.
        AttentionScores.AveragePool([1, 2, 3, 4, 5, 6], 1, output);
        AssertClose([1, 2, 3, 4, 5, 6], output);
        var two = new float[2];
        AttentionScores.AveragePool([3, 6], 5, two);
        AssertClose([1.8, 1.8], two);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => AttentionScores.AveragePool([1, 2], 4, new float[2]));
    }

    // One KV head read by two query heads; 8 tokens (positions 0–7); window 2 (queries 6, 7); kernel 3.
    // Window-query sums of the prefix tokens 0–5 (the window tokens' entries do not matter):
    //   head 0: 0.2, 0.0, 0.6, 0.0, 0.0, 0.4      head 1: 0.2, 0.2, 0.2, 0.0, 0.4, 0.0
    // Group mean: 0.2, 0.1, 0.4, 0, 0.2, 0.2; over the 2 window queries: 0.1, 0.05, 0.2, 0, 0.1, 0.1.
    // Pooled (kernel 3, zero padding 1, /3): 0.15/3, 0.35/3, 0.25/3, 0.3/3, 0.2/3, 0.2/3
    //   = 0.05, 0.116667, 0.083333, 0.1, 0.066667, 0.066667.
    private static readonly float[] Head0 = [0.2f, 0, 0.6f, 0, 0, 0.4f, 0.3f, 0.7f];
    private static readonly float[] Head1 = [0.2f, 0.2f, 0.2f, 0, 0.4f, 0, 0.5f, 0.5f];

    [TestMethod]
    public void ScoresArePooledWindowAttentionAveragedOverTheGroup()
    {
        var cache = HandCache([0, 1, 2, 3, 4, 5, 6, 7]);
        var context = Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 8), 6, Head0, Head1));
        var press = new SnapKvPress { Window = 2, KernelSize = 3, Budget = new CompressionBudget { Compression = 0.5 } };
        var scores = new float[8];
        press.Score(context, 0, scores);
        AssertClose([0.05, 0.35 / 3, 0.25 / 3, 0.1, 0.2 / 3, 0.2 / 3], scores.AsSpan(0, 6));
        Assert.IsTrue(float.IsPositiveInfinity(scores[6]) && float.IsPositiveInfinity(scores[7]), "the window outranks everything");

        // Keep 4: the window (6, 7) + the two best pooled scores (1, 3). Unpooled, token 2 (0.2) would win.
        var plan = (KeepPlan)press.CompressPrefill(context)!;
        CollectionAssert.AreEqual(new[] { 1, 3, 6, 7 }, plan.KeepPerHead[0]);

        // Keep 5 (compression 0.375): adds token 2 (0.0833).
        var five = new SnapKvPress { Window = 2, KernelSize = 3, Budget = new CompressionBudget { Compression = 0.375 } };
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 6, 7 }, ((KeepPlan)five.CompressPrefill(context)!).KeepPerHead[0]);

        // A budget below the window keeps the window whole.
        var tiny = new SnapKvPress { Window = 2, KernelSize = 3, Budget = new CompressionBudget { TokenBudget = 1 } };
        CollectionAssert.AreEqual(new[] { 6, 7 }, ((KeepPlan)tiny.CompressPrefill(context)!).KeepPerHead[0]);
    }

    [TestMethod]
    public void AsksForThePromptsLastWindowQueriesAndLeavesShortPromptsAlone()
    {
        var press = new SnapKvPress { Window = 2, KernelSize = 3, Budget = new CompressionBudget { Compression = 0.5 } };
        Assert.AreEqual(6, ((IKvPress)press).AttentionQueryStart(CompressionPhase.Prefill, 0, new PositionRange(0, 8)));
        Assert.IsNull(((IKvPress)press).AttentionQueryStart(CompressionPhase.Decode, 0, new PositionRange(8, 9)), "prefill only");

        // kvpress asserts q_len > window; here a prompt of at most `window` tokens is not compressed.
        var cache = HandCache([0, 1]);
        Assert.IsNull(press.CompressPrefill(Context(cache, CompressionPhase.Prefill, Statistics(new PositionRange(0, 2), 0, [0.5f, 0.5f], [0.5f, 0.5f]))));

        // Without statistics (or with statistics that do not match the cache) the press refuses.
        Assert.ThrowsExactly<InvalidOperationException>(() => press.CompressPrefill(new PressContext(0, HandCache([0, 1, 2]), AnyConfig, CompressionPhase.Prefill)));
        Assert.ThrowsExactly<InvalidOperationException>(() =>
            press.CompressPrefill(Context(HandCache([0, 1, 2]), CompressionPhase.Prefill, Statistics(new PositionRange(0, 3), 1, [1, 1], [1, 1]))));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SnapKvPress { KernelSize = 4 });
    }
}
