using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace ManagedKv.Gpu.Device;

/// <summary>An ILGPU context and accelerator: the first CUDA device, or ILGPU's CPU accelerator.</summary>
public sealed class GpuDevice : IDisposable
{
    private GpuDevice(Context context, Accelerator accelerator, GpuDeviceKind kind)
    {
        Context = context;
        Accelerator = accelerator;
        Kind = kind;
    }

    /// <summary>The ILGPU context (algorithms enabled).</summary>
    public Context Context { get; }

    /// <summary>The accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Which device this is.</summary>
    public GpuDeviceKind Kind { get; }

    /// <summary>Whether a CUDA device can be opened on this machine.</summary>
    public static bool CudaAvailable
    {
        get
        {
            try
            {
                using var context = Context.Create(b => b.Cuda());
                return context.GetCudaDevices().Count > 0;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return false; // no driver library, or a driver that cannot initialise: no CUDA
            }
        }
    }

    /// <summary>
    /// Opens a device. <see cref="GpuDeviceKind.Cpu"/> uses ILGPU's default CPU device (warp 4, groups of up to 16
    /// threads), so kernels that size their groups from the accelerator run unchanged.
    /// </summary>
    /// <exception cref="NoCudaDeviceException"><see cref="GpuDeviceKind.Cuda"/> and no CUDA device is present.</exception>
    public static GpuDevice Open(GpuDeviceKind kind)
    {
        if (kind == GpuDeviceKind.Cpu)
        {
            var cpu = Context.Create(b => b.CPU(CPUDeviceKind.Default).EnableAlgorithms());
            return new GpuDevice(cpu, cpu.CreateCPUAccelerator(0), kind);
        }
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().EnableAlgorithms());
            if (context.GetCudaDevices().Count == 0) throw new NoCudaDeviceException(NoCudaDeviceException.DefaultMessage);
            return new GpuDevice(context, context.CreateCudaAccelerator(0), kind);
        }
        catch (NoCudaDeviceException)
        {
            context?.Dispose();
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context?.Dispose();
            throw new NoCudaDeviceException($"{NoCudaDeviceException.DefaultMessage} ({e.Message})", e);
        }
    }

    /// <summary>Releases the accelerator and the context.</summary>
    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
