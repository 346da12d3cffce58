using ILGPU;
using ILGPU.Runtime;

namespace ManagedKv.Gpu.Presses;

/// <summary>
/// A reusable device buffer that only grows (doubling), so a warm scoring loop allocates nothing on the device.
/// </summary>
/// <typeparam name="T">Element type.</typeparam>
internal sealed class DeviceScratch<T>(Accelerator accelerator) : IDisposable where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    /// <summary>A view of the first <paramref name="length"/> elements (contents unspecified).</summary>
    public ArrayView<T> View(long length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (_buffer is null || _buffer.Length < length)
        {
            long size = Math.Max(length, (_buffer?.Length ?? 0) * 2);
            _buffer?.Dispose();
            _buffer = accelerator.Allocate1D<T>(size);
        }
        return _buffer.View.SubView(0, length);
    }

    /// <summary>Copies <paramref name="source"/> to the start of the buffer and returns its view.</summary>
    public ArrayView<T> Upload(ReadOnlySpan<T> source)
    {
        var view = View(source.Length);
        ((ArrayView1D<T, Stride1D.Dense>)view).CopyFromCPU(accelerator.DefaultStream, source);
        return view;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}
