using ILGPU;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ManagedKv.Gpu.Tests.Presses;

/// <summary>Every press kernel on ILGPU's CPU accelerator (default device: warp 4, groups of at most 16).</summary>
[TestClass]
public sealed class PressKernelCpuTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DynamicData(nameof(PressKernelChecks.Cases), typeof(PressKernelChecks))]
    public void PlansFromKernelScoresEqualTheOracle(string press, string arguments, string kernel)
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        var stats = PressKernelChecks.Verify(accelerator, press, arguments, kernel);
        TestContext.WriteLine($"{press} {arguments}: {kernel}: {stats}");
    }
}

/// <summary>Every press kernel on the first CUDA device; inconclusive where there is none.</summary>
[TestClass]
public sealed class PressKernelCudaTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DynamicData(nameof(PressKernelChecks.Cases), typeof(PressKernelChecks))]
    public void PlansFromKernelScoresEqualTheOracle(string press, string arguments, string kernel)
    {
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        if (context.GetCudaDevices().Count == 0) Assert.Inconclusive("skipped: no CUDA device");
        using var accelerator = context.CreateCudaAccelerator(0);
        var stats = PressKernelChecks.Verify(accelerator, press, arguments, kernel);
        TestContext.WriteLine($"{press} {arguments}: {kernel} on {accelerator.Name}: {stats}");
    }
}
