using ManagedKv.Gguf;
using ManagedKv.Model.Synthesis;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Synthesis;

/// <summary>
/// The NumPy-compatible random stream against NumPy's own output: the reference files' token_embd was drawn
/// as <c>default_rng(seed).standard_normal((512, 256), dtype=float32) / 16</c> (exact: 16 is a power of two).
/// </summary>
[TestClass]
public sealed class RandomStreamTests
{
    [TestMethod]
    [DataRow("tiny-llama-F32.gguf", 1001UL)]
    [DataRow("tiny-llama-tied-F32.gguf", 1002UL)]
    [DataRow("tiny-qwen2-F32.gguf", 1003UL)]
    public void FirstTensorEqualsNumPyDraws(string file, ulong seed)
    {
        using var gguf = GgufFile.Open(TestData.Path("models", file));
        var tensor = gguf.GetTensor("token_embd.weight");
        float[] expected = new float[tensor.ElementCount];
        GgmlQuants.DequantizeRow(GgmlType.F32, gguf.GetTensorBytes(tensor), expected);

        var rng = Pcg64.FromSeed(seed);
        float[] actual = new float[expected.Length];
        StandardNormal.Fill(ref rng, actual);
        int tails = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i] / 16f),
                $"{file} value {i}: NumPy {expected[i] * 16}, ours {actual[i]}");
            if (Math.Abs(actual[i]) > 3.6541529f) tails++;
        }
        // The tail branch (and its log1pf) must have been exercised for this to mean something.
        Assert.IsTrue(tails >= 10, $"only {tails} samples from the tail");
    }

    [TestMethod]
    public void SkipAdvancesExactlyLikeFill()
    {
        var a = Pcg64.FromSeed(7);
        var b = a;
        StandardNormal.Skip(ref a, 100_000);
        StandardNormal.Fill(ref b, new float[100_000]);
        Assert.AreEqual(StandardNormal.Next(ref a), StandardNormal.Next(ref b));
        Assert.AreEqual(a.NextUInt64(), b.NextUInt64());
    }

    [TestMethod]
    public void CopiesAreSnapshots()
    {
        var rng = Pcg64.FromSeed(42);
        rng.NextUInt32();   // leave half a 64-bit draw buffered: the snapshot must carry it
        var snapshot = rng;
        uint[] first = [rng.NextUInt32(), rng.NextUInt32(), rng.NextUInt32()];
        uint[] again = [snapshot.NextUInt32(), snapshot.NextUInt32(), snapshot.NextUInt32()];
        CollectionAssert.AreEqual(first, again);
    }

    [TestMethod]
    public void SeedsGiveDistinctStreamsAndTheSampleIsStandardNormal()
    {
        var a = Pcg64.FromSeed(1);
        var b = Pcg64.FromSeed(2);
        var c = Pcg64.FromSeed(1UL << 40);   // a two-word seed
        Assert.AreNotEqual(a.NextUInt64(), b.NextUInt64());
        Assert.AreNotEqual(Pcg64.FromSeed(1UL << 40).NextUInt64(), Pcg64.FromSeed(0).NextUInt64());

        var values = new float[1_000_000];
        StandardNormal.Fill(ref c, values);
        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => (v - mean) * (v - mean));
        double beyond2 = values.Count(v => Math.Abs(v) > 2) / (double)values.Length;
        Assert.AreEqual(0, mean, 0.005);
        Assert.AreEqual(1, variance, 0.01);
        Assert.AreEqual(0.0455, beyond2, 0.002);   // P(|z| > 2) = 4.55%
    }

    [TestMethod]
    public void Log1pIsAccurateAndHandlesTheEdges()
    {
        Assert.AreEqual(0f, Log1pSingle.Log1p(0f));
        Assert.AreEqual(float.NegativeInfinity, Log1pSingle.Log1p(-1f));
        Assert.IsTrue(float.IsNaN(Log1pSingle.Log1p(-1.5f)));
        Assert.IsTrue(float.IsNaN(Log1pSingle.Log1p(float.NaN)));
        Assert.AreEqual(float.PositiveInfinity, Log1pSingle.Log1p(float.PositiveInfinity));
        // Every argument the normal sampler can pass (−u for u = j/2^24), sampled, plus positive ones:
        // within one unit in the last place of the exact value.
        for (int j = 1; j < 1 << 24; j += 997)
            AssertWithinOneUlp(-j / 16777216f);
        for (float x = 1e-6f; x < 1e6f; x *= 1.37f)
            AssertWithinOneUlp(x);
    }

    private static void AssertWithinOneUlp(float x)
    {
        float actual = Log1pSingle.Log1p(x);
        double exact = Math.Log(1 + (double)x);   // 1 + x is exact in double for these arguments
        double ulp = Math.Abs(MathF.BitIncrement((float)exact) - (float)exact);
        Assert.IsTrue(Math.Abs(actual - exact) <= ulp, $"log1p({x:R}) = {actual:R}, exact {exact:R}");
    }
}
