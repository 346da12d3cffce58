namespace ManagedKv.Gpu.Device;

/// <summary>Where the GPU backend's kernels run.</summary>
public enum GpuDeviceKind
{
    /// <summary>The first CUDA device.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator (simulated warps and groups: correct but slow; tests and CI).</summary>
    Cpu,
}
