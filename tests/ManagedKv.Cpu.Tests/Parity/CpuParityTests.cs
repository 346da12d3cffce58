using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Parity;

/// <summary>
/// The CPU backend against the scalar reference for every registered press at compression 0.5 (<see cref="ParityCheck"/>):
/// equal plans, greedy tokens and logits within 1e-3 of the logit range (measured: ~6e-7 on stories260K and
/// tiny-llama-F32; KIVI's storage hashes may differ with any ulp of the keys, reported only).
/// </summary>
[TestClass]
public sealed class CpuParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("stories260K")]
    [DataRow("tiny-llama-F32")]
    public void EveryPressMatchesTheReference(string model)
    {
        var results = ParityCheck.AssertEveryPress(model, () => new CpuBackend(2), () => new ReferenceBackend());
        foreach (var r in results) TestContext.WriteLine(r.ToString());
    }
}
