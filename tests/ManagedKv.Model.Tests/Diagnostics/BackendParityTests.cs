using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Diagnostics;

/// <summary>The parity harness itself: identical backends agree exactly; a wrong candidate is caught.</summary>
[TestClass]
public sealed class BackendParityTests
{
    [TestMethod]
    public void TheOracleAgainstItselfIsExactForEveryPress()
    {
        var results = ParityCheck.AssertEveryPress("stories260K", () => new ReferenceBackend(), () => new ReferenceBackend(), steps: 4);
        Assert.HasCount(PressRegistry.All.Count, results);
        foreach (var r in results)
        {
            Assert.AreEqual(0, r.MaxLogitDifference, r.Press);
            Assert.AreEqual(0, r.StorageHeadsDiffering, r.Press);
            Assert.IsTrue(r.PlansEqual && r.GreedyEqual && r.WithinTolerance, r.ToString());
        }
        // KIVI's storage is compared by fingerprint; MiniCache's merge sets and LagKV's partitions are compared as plans.
        Assert.AreEqual(20, results.Single(r => r.Press == "kivi").StorageHeadsCompared);
        Assert.IsGreaterThan(0, results.Single(r => r.Press == "minicache").PlansCompared);
        Assert.IsGreaterThan(0, results.Single(r => r.Press == "lagkv").PlansCompared);
    }

    [TestMethod]
    public void ACandidateWithWrongKeysIsCaught()
    {
        var golden = LlamaCppGolden.Load("stories260K");
        using var source = ModelSource.Open(golden.ModelPath);
        var parity = new BackendParity(source, () => new KeyBumpingBackend(new ReferenceBackend()), () => new ReferenceBackend());
        var result = parity.Compare(PressRegistry.Get("knorm"), new CompressionBudget { Compression = 0.5 }, null, golden.PromptTokens("story"), 4);

        Assert.IsFalse(result.PlansEqual, "bumped keys change KNorm's norms: the plans must differ");
        Assert.IsNotNull(result.FirstPlanDifference);
        StringAssert.Contains(result.FirstPlanDifference, "keep [");
        Assert.IsGreaterThan(0, result.MaxLogitDifference);
        Assert.IsFalse(result.WithinTolerance);
    }

    [TestMethod]
    public void LogitsAreComparedOnlyUpToTheFirstDivergentToken()
    {
        var golden = LlamaCppGolden.Load("stories260K");
        using var source = ModelSource.Open(golden.ModelPath);
        // A candidate whose logits favour another token from the second step on diverges there; steps after it are not compared.
        var parity = new BackendParity(source, () => new KeyBumpingBackend(new ReferenceBackend(), everyToken: true), () => new ReferenceBackend());
        var result = parity.Compare("full", () => [], golden.PromptTokens("girl"), 8);

        Assert.IsNotNull(result.FirstDivergentStep, "keys bumped everywhere change the continuation");
        Assert.AreEqual(8, result.GreedySteps);
        Assert.IsFalse(result.GreedyEqual);
        Assert.AreEqual(0, result.PlansCompared, "the full cache makes no plan");
        Assert.IsFalse(result.WithinTolerance);
    }

    /// <summary>
    /// A wrong candidate: adds 0.5 to every key of one token in seven; with <c>everyToken</c>, also 3·(position mod 3)
    /// to every value (enough to change the continuation).
    /// </summary>
    private sealed class KeyBumpingBackend(IBackend inner, bool everyToken = false) : DelegatingBackend(inner)
    {
        public override void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions)
        {
            var keys = (HostTensor)k;
            var values = (HostTensor)v;
            for (int r = 0; r < positions.Length; r++)
            {
                if (positions[r] % 7 == 3)
                    foreach (ref float x in keys.Row(r)) x += 0.5f;
                if (everyToken)
                    foreach (ref float x in values.Row(r)) x += 3f * (positions[r] % 3);
            }
            base.AppendKv(cache, layer, k, v, positions);
        }
    }
}
