using ILGPU;
using ILGPU.Runtime;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// A small device int array copied from the host only when its contents change. A host-to-device copy from pageable
/// memory waits for the whole queue, so per-layer tables that repeat across the layers of one forward call (the
/// append offsets of each KV head, the visible prefix lengths) cost one wait per call instead of one per layer.
/// </summary>
internal sealed class UploadedInts(Accelerator accelerator) : IDisposable
{
    private readonly Scratch<int> _device = new(accelerator);
    private int[] _shadow = [];     // what the device buffer holds: [_length]
    private int _length = -1;       // -1: nothing uploaded yet

    /// <summary>A device view whose first <c>values.Length</c> elements equal <paramref name="values"/>.</summary>
    public ArrayView<int> Upload(ReadOnlySpan<int> values)
    {
        if (_length == values.Length && values.SequenceEqual(_shadow.AsSpan(0, _length))) return _device.Get(_length);
        var view = _device.Get(values.Length);
        if (values.Length > 0) view.SubView(0, values.Length).CopyFromCPU(values);
        if (_shadow.Length < values.Length) _shadow = new int[Math.Max(values.Length, 2 * _shadow.Length)];
        values.CopyTo(_shadow);
        _length = values.Length;
        return view;
    }

    /// <summary>Frees the buffer.</summary>
    public void Dispose() => _device.Dispose();
}
