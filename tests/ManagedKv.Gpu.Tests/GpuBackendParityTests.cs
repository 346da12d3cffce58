using ManagedKv.Model.Inference;
using ManagedKv.Cpu;
using ManagedKv.TestKit;

namespace ManagedKv.Gpu.Tests;

/// <summary>
/// The GPU backend against the CPU oracle for every registered press at compression 0.5, one test per model
/// (<see cref="ParityCheck"/>). Inconclusive until <see cref="GpuBackend"/> is pointed at the real backend.
/// </summary>
[TestClass]
public sealed class GpuBackendParityTests
{
    /// <summary>
    /// Creates the GPU backend under test (e.g. on ILGPU's CPU accelerator, so it runs without a GPU). Null while the
    /// backend is not wired: the tests are then inconclusive, never a silent pass.
    /// </summary>
    private static Func<IBackend>? GpuBackend => null;

    /// <summary>The oracle: the CPU backend (itself checked against the scalar reference in ManagedKv.Cpu.Tests).</summary>
    private static IBackend Oracle() => new CpuBackend(2);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Stories260K() => Check("stories260K");

    [TestMethod]
    public void TinyLlamaF32() => Check("tiny-llama-F32");

    private void Check(string model)
    {
        if (GpuBackend is not { } candidate)
        {
            Assert.Inconclusive("GPU backend not wired");
            return;
        }
        foreach (var r in ParityCheck.AssertEveryPress(model, candidate, Oracle)) TestContext.WriteLine(r.ToString());
    }
}
