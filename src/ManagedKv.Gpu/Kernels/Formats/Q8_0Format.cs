using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q8_0 blocks (34 bytes: f16 d, 32 int8 codes), x = d·q; a unit is a block.</summary>
internal readonly struct Q8_0Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 34L * unit;
        float d = Bits.F16(w, b);
        for (int i = 0; i < 32; i++) sink.Put(i, d * Bits.S8(w, b + 2 + i));
    }
}
