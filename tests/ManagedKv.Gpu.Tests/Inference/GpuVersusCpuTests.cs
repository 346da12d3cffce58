using ManagedKv.Gpu.Device;

namespace ManagedKv.Gpu.Tests.Inference;

/// <summary>
/// Whole-model parity on ILGPU's CPU accelerator (the kernels CUDA runs, on simulated warps): every tiny golden
/// model (every weight type the CPU backend supports) and stories260K give the CPU backend's greedy tokens, with
/// logits within <see cref="ModelParity.RelativeTolerance"/>. Few decode steps: the simulator is slow.
/// </summary>
[TestClass]
public sealed class GpuVersusCpuTests
{
    [TestMethod]
    [DataRow("stories260K")]
    [DataRow("tiny-llama-F32")]
    [DataRow("tiny-llama-F16")]
    [DataRow("tiny-llama-BF16")]
    [DataRow("tiny-llama-Q8_0")]
    [DataRow("tiny-llama-Q4_0")]
    [DataRow("tiny-llama-Q4_1")]
    [DataRow("tiny-llama-Q5_0")]
    [DataRow("tiny-llama-Q5_1")]
    [DataRow("tiny-llama-Q2_K")]
    [DataRow("tiny-llama-Q3_K_M")]
    [DataRow("tiny-llama-Q4_K_M")]
    [DataRow("tiny-llama-Q5_K_M")]
    [DataRow("tiny-llama-Q6_K")]
    [DataRow("tiny-llama-tied-Q8_0")]
    [DataRow("tiny-qwen2-F32")]
    [DataRow("tiny-qwen2-Q8_0")]
    public void CpuAcceleratorMatchesCpuBackend(string model) => ModelParity.AssertSameGreedyRun(model, GpuDeviceKind.Cpu, steps: 1);
}
