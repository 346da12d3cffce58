using ManagedKv.Model.Compression;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>
/// The shared press test matrix (<see cref="PressMatrix"/>) on the reference backend: every registered press (and
/// the matrix's variants) × model × compression ratio. Each cell prefills the 201-token story prompt, records the
/// plans, and checks them against a golden snapshot; checks the cache's byte count against the kept-token formula;
/// decodes after compression; and (ratio 0) equals the full cache bit for bit. A new press joins by being registered.
/// </summary>
[TestClass]
public sealed class PressMatrixTests
{
    public static IEnumerable<object[]> Cells => PressMatrix.Cells;

    public static IEnumerable<object[]> CasesAndModels => PressMatrix.CasesAndModels;

    [TestMethod]
    [DynamicData(nameof(Cells))]
    public void PlanMatchesSnapshotAndBytesMatchKeptTokens(string press, string model, double ratio)
    {
        var pressCase = PressMatrix.Case(press);
        using var run = Start(model, pressCase, ratio);
        var cache = run.Session.Cache;

        Golden.Verify("presses", pressCase.GoldenName(model, ratio), PressMatrix.Describe(run.Runner.History, cache));

        // True byte count: every kept token costs its position plus its key and value rows in their storage
        // format (dense f32: 4 bytes per element; merged pairs and quantised formats: their layout formula).
        Assert.AreEqual(PressMatrix.ExpectedBytes(cache), cache.ByteCount);
        Assert.IsTrue(cache.ByteCount <= cache.FullCacheBytes);
        // A plan must really shrink the cache (knorm leaves a 2-layer model alone: it skips layers 0-1).
        if (run.Runner.History.Count > 0) Assert.IsTrue(cache.ByteCount < cache.FullCacheBytes, "plans were applied but the cache did not shrink");
        else Assert.AreEqual(cache.FullCacheBytes, cache.ByteCount);

        // Decoding after compression works and stays finite.
        int token = Model.Sampling.Sampler.ArgMax(run.Logits);
        for (int step = 0; step < 4; step++)
        {
            var logits = run.Session.Decode(token);
            Assert.IsTrue(logits.ToArray().All(float.IsFinite), $"step {step}");
            token = Model.Sampling.Sampler.ArgMax(logits);
        }
    }

    [TestMethod]
    [DynamicData(nameof(CasesAndModels))]
    public void CompressionZeroEqualsTheFullCacheBitForBit(string press, string model)
    {
        var pressCase = PressMatrix.Case(press);
        if (!PressRegistry.Get(pressCase.Press).UsesBudget)
        {
            // A press that ignores the ratio (KIVI quantises, removing nothing) must give the same result at any ratio.
            using var at0 = Start(model, pressCase, 0);
            using var at875 = Start(model, pressCase, 0.875);
            CollectionAssert.AreEqual(at0.Logits, at875.Logits);
            int next = Model.Sampling.Sampler.ArgMax(at0.Logits);
            CollectionAssert.AreEqual(at0.Session.Decode(next).ToArray(), at875.Session.Decode(next).ToArray());
            Assert.AreEqual(at0.Session.Cache.ByteCount, at875.Session.Cache.ByteCount);
            return;
        }
        using var full = Start(model, PressMatrix.Case("full"), 0);
        using var zero = Start(model, pressCase, 0, LosslessArguments.GetValueOrDefault(pressCase.Press));
        CollectionAssert.AreEqual(full.Logits, zero.Logits);
        int token = Model.Sampling.Sampler.ArgMax(full.Logits);
        CollectionAssert.AreEqual(full.Session.Decode(token).ToArray(), zero.Session.Decode(token).ToArray());
        Assert.AreEqual(full.Session.Cache.ByteCount, zero.Session.Cache.ByteCount);
    }

    /// <summary>
    /// Presses whose compression does not come from the ratio, with the arguments that make them lossless (the
    /// "compression 0" of the bit-for-bit check): MiniCache retaining every row merges nothing.
    /// </summary>
    private static readonly Dictionary<string, IReadOnlyDictionary<string, string>> LosslessArguments = new()
    {
        ["minicache"] = new Dictionary<string, string> { ["gamma"] = "1" },
    };

    private static PressRun Start(string model, PressCase pressCase, double ratio, IReadOnlyDictionary<string, string>? extra = null) =>
        PressRun.Start(() => new ReferenceBackend(), model, pressCase, ratio, extra);
}
