using ManagedKv.Model.Numerics;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary>The register reductions, on lanes constructed so that their association order shows.</summary>
[TestClass]
public sealed class SimdReduceTests
{
    [TestMethod]
    public void ReduceAdd16PairsLaneIWithLaneIPlus8First()
    {
        // 2^24 in lane 0 and −2^24 in lane 8 cancel in the first step, so all fourteen ones survive; summed in
        // lane order the seven ones after 2^24 are lost (2^24 + 1 rounds back to 2^24).
        var lanes = Enumerable.Repeat(1f, 16).ToArray();
        lanes[0] = 1 << 24;
        lanes[8] = -(1 << 24);
        Assert.AreEqual(14f, SimdReduce.ReduceAdd16(lanes));
        float inOrder = 0;
        foreach (float v in lanes) inOrder += v;
        Assert.AreEqual(7f, inOrder);
    }

    [TestMethod]
    public void HorizontalSum8FoldsHalvesThenPairs()
    {
        // (l0 + l4) + (l2 + l6) + ((l1 + l5) + (l3 + l7)): 2^24 meets −2^24 before any of the ones
        float[] lanes = [1 << 24, 1, 1, 1, -(1 << 24), 1, 1, 1];
        Assert.AreEqual(6f, SimdReduce.HorizontalSum8(lanes));
        Assert.ThrowsExactly<ArgumentException>(() => SimdReduce.HorizontalSum8(new float[16]));
    }

    [TestMethod]
    public void FoldFourCombinesAccumulatorsZeroTwoAndOneThree()
    {
        var acc = new float[64];
        acc[0] = 1 << 24;  // accumulator 0
        acc[16] = 1;       // accumulator 1
        acc[32] = -(1 << 24); // accumulator 2
        acc[48] = 1;       // accumulator 3
        SimdReduce.FoldFour(acc);
        Assert.AreEqual(2f, acc[0]); // (2^24 − 2^24) + (1 + 1)
    }
}
