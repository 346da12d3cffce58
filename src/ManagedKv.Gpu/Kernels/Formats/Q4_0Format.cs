using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q4_0 blocks (18 bytes: f16 d, 16 bytes of nibbles; byte j holds values j and j+16), x = d·(q − 8).</summary>
internal readonly struct Q4_0Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 18L * unit;
        float d = Bits.F16(w, b);
        for (int j = 0; j < 16; j++)
        {
            int q = w[b + 2 + j];
            sink.Put(j, d * ((q & 0xF) - 8));
            sink.Put(j + 16, d * ((q >> 4) - 8));
        }
    }
}
