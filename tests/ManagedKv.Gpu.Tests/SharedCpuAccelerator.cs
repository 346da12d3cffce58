using ManagedKv.Gpu.Device;

namespace ManagedKv.Gpu.Tests;

/// <summary>
/// One <see cref="GpuBackend"/> on ILGPU's CPU accelerator for the whole test run: kernels compile once per
/// accelerator (seconds in all on 2 cores). A backend serves one session at a time (shared scratch buffers), and test
/// classes run in parallel, so every use holds a lock; the simulator already keeps both cores busy.
/// </summary>
internal static class SharedCpuAccelerator
{
    private static readonly Lazy<GpuBackend> Backend = new(() => new GpuBackend(GpuDeviceKind.Cpu));
    private static readonly Lock Gate = new();

    /// <summary>Runs <paramref name="action"/> with exclusive use of the shared backend (never dispose it).</summary>
    public static void Use(Action<GpuBackend> action)
    {
        lock (Gate) action(Backend.Value);
    }
}
