using ILGPU;
using ILGPU.Runtime;

namespace ManagedKv.Gpu.Kernels;

/// <summary>A device buffer reused between calls and grown (doubling) on demand.</summary>
internal sealed class Scratch<T>(Accelerator accelerator) : IDisposable where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    /// <summary>A view of at least <paramref name="length"/> elements (contents unspecified).</summary>
    public ArrayView<T> Get(long length)
    {
        if (_buffer is null || _buffer.Length < length)
        {
            if (_buffer is not null)
            {
                accelerator.Synchronize(); // kernels still queued may read the old buffer
                _buffer.Dispose();
            }
            _buffer = accelerator.Allocate1D<T>(Math.Max(length, Math.Max(64, (_buffer?.Length ?? 0) * 2)));
        }
        return _buffer.View;
    }

    /// <summary>Frees the buffer.</summary>
    public void Dispose() => _buffer?.Dispose();
}
