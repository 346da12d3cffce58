using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Writes decoded values (plus the unit's offset) to consecutive elements of a view: embedding rows.</summary>
internal struct StoreSink(ArrayView<float> y, long start) : IValueSink
{
    private float _offset;

    /// <inheritdoc/>
    public void Put(int i, float value) => y[start + i] = value + _offset;

    /// <inheritdoc/>
    public void Offset(float offset) => _offset = offset;
}
