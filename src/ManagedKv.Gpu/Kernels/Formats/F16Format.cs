using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>F16 weights: one value per unit.</summary>
internal readonly struct F16Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 1;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        sink.Put(0, Bits.HalfToFloat(Bits.U16(w, row + 2L * unit)));
    }
}
