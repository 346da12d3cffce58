using ManagedKv.Cpu;
using ManagedKv.Gpu.Device;
using ManagedKv.Model.Inference;
using ManagedKv.TestKit;

namespace ManagedKv.Gpu.Tests;

/// <summary>
/// The GPU backend (its forward pass and its press score kernels, <see cref="GpuBackend"/> being the presses'
/// <see cref="Model.Compression.IPressScoring"/>) against the CPU oracle for every registered press at compression 0.5,
/// one test per model (<see cref="ParityCheck"/>): identical plans and greedy tokens, logits within tolerance. Runs
/// on ILGPU's CPU accelerator; the CUDA variant is inconclusive where there is no CUDA device.
/// <para>
/// Cost: the simulator needs about a minute (on a loaded 2-core machine) per press for the 201-token prefill of
/// stories260K, so these two tests dominate the project's run time; every press passed on stories260K when measured.
/// </para>
/// </summary>
[TestClass]
public sealed class GpuBackendParityTests
{
    /// <summary>The oracle: the CPU backend (itself checked against the scalar reference in ManagedKv.Cpu.Tests).</summary>
    private static IBackend Oracle() => new CpuBackend(2);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Stories260K() => CheckOnCpuAccelerator("stories260K");

    [TestMethod]
    public void TinyLlamaF32() => CheckOnCpuAccelerator("tiny-llama-F32");

    /// <summary>
    /// ILGPU's CPU accelerator simulates every thread group (a 201-token prefill of one press takes ~55 s on two
    /// cores), so CI compares the first 40 prompt tokens with partitions and windows scaled down to match: every
    /// press still scores and evicts (the assertion checks that plans were made). CUDA runs the whole prompt.
    /// </summary>
    private const int CpuAcceleratorPromptTokens = 40;

    private static readonly IReadOnlyDictionary<string, string> ShortPromptArguments =
        new Dictionary<string, string> { ["lag"] = "8", ["sink"] = "8", ["window"] = "16" };

    [TestMethod]
    public void CudaStories260K()
    {
        if (!GpuDevice.CudaAvailable) Assert.Inconclusive("skipped: no CUDA device");
        Check("stories260K", () => new GpuBackend(GpuDeviceKind.Cuda));
    }

    /// <summary>
    /// Parity on the shared CPU-accelerator backend, put behind a wrapper that does not dispose it (BackendParity
    /// disposes what its factory returns) and forwards the cache and every score kernel to it.
    /// </summary>
    private void CheckOnCpuAccelerator(string model) =>
        SharedCpuAccelerator.Use(gpu => Check(model, () => new ScoringBackend(gpu, gpu), CpuAcceleratorPromptTokens, ShortPromptArguments));

    /// <summary>
    /// Two greedy steps: the prefill's plans (and the first decode step's, for presses that act while decoding) on
    /// the prompt; the simulator is slow, and more steps only repeat the same kernels.
    /// </summary>
    private void Check(string model, Func<IBackend> candidate, int promptTokens = int.MaxValue, IReadOnlyDictionary<string, string>? arguments = null)
    {
        foreach (var r in ParityCheck.AssertEveryPress(model, candidate, Oracle, steps: 2, promptTokens: promptTokens, arguments: arguments))
            TestContext.WriteLine(r.ToString());
    }
}
