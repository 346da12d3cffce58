using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q4_1 blocks (20 bytes: f16 d, f16 m, 16 bytes of nibbles), x = d·q + m.</summary>
internal readonly struct Q4_1Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 20L * unit;
        float d = Bits.F16(w, b);
        sink.Offset(Bits.F16(w, b + 2));
        for (int j = 0; j < 16; j++)
        {
            int q = w[b + 4 + j];
            sink.Put(j, d * (q & 0xF));
            sink.Put(j + 16, d * (q >> 4));
        }
    }
}
