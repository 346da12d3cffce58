using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q5_0 blocks (22 bytes: f16 d, u32 fifth bits, 16 bytes of nibbles), x = d·(q − 16).</summary>
internal readonly struct Q5_0Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 22L * unit;
        float d = Bits.F16(w, b);
        uint qh = Bits.U32(w, b + 2);
        for (int j = 0; j < 16; j++)
        {
            int q = w[b + 6 + j];
            int lo = (q & 0xF) | (int)(((qh >> j) << 4) & 0x10);
            int hi = (q >> 4) | (int)(((qh >> (j + 16)) << 4) & 0x10);
            sink.Put(j, d * (lo - 16));
            sink.Put(j + 16, d * (hi - 16));
        }
    }
}
