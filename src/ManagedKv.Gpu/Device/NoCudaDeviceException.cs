namespace ManagedKv.Gpu.Device;

/// <summary>Thrown when the CUDA device was asked for and none is present.</summary>
public sealed class NoCudaDeviceException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The message the CLI shows.</summary>
    public const string DefaultMessage = "no CUDA device found; use --device cpu to run the kernels on ILGPU's CPU accelerator";
}
