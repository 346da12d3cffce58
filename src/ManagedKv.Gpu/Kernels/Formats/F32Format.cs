using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>F32 weights: one value per unit.</summary>
internal readonly struct F32Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 1;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        sink.Put(0, Interop.IntAsFloat(Bits.U32(w, row + 4L * unit)));
    }
}
