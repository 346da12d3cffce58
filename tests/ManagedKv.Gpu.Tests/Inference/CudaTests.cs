using ManagedKv.Gpu.Device;

namespace ManagedKv.Gpu.Tests.Inference;

/// <summary>The same parity on a CUDA device; reported as skipped (inconclusive) where there is none, never passed.</summary>
[TestClass]
public sealed class CudaTests
{
    [TestMethod]
    [DataRow("stories260K")]
    [DataRow("tiny-llama-Q4_K_M")]
    [DataRow("tiny-llama-Q8_0")]
    [DataRow("tiny-qwen2-F32")]
    public void CudaMatchesCpuBackend(string model)
    {
        if (!GpuDevice.CudaAvailable) Assert.Inconclusive("skipped: no CUDA device");
        ModelParity.AssertSameGreedyRun(model, GpuDeviceKind.Cuda, steps: 8);
    }

    [TestMethod]
    public void CudaWithoutDeviceThrowsTypedError()
    {
        if (GpuDevice.CudaAvailable) Assert.Inconclusive("skipped: a CUDA device is present");
        var e = Assert.ThrowsExactly<NoCudaDeviceException>(() => new GpuBackend(GpuDeviceKind.Cuda));
        StringAssert.Contains(e.Message, "--device cpu");
    }
}
