using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q3_K super-blocks (110 bytes: 32-byte high-bit mask, 64 bytes of 2-bit planes, 12 bytes of 6-bit scales, f16 d); unit c is values 32c..32c+31, x = d·(sc − 32)·q per 16 values.</summary>
internal readonly struct Q3KFormat : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 110L * (unit >> 3);
        int c = unit & 7, h = c >> 2, k = c & 3;
        float d = Bits.F16(w, b + 108);
        for (int l = 0; l < 32; l++)
        {
            int q = ((w[b + 32 + 32 * h + l] >> (2 * k)) & 3) - ((w[b + l] & (1 << c)) != 0 ? 0 : 4);
            int s = 2 * c + (l >> 4);
            int low = s < 8 ? w[b + 96 + s] & 0xF : w[b + 96 + s - 8] >> 4;
            int scale = (low | (((w[b + 96 + 8 + (s & 3)] >> (2 * (s >> 2))) & 3) << 4)) - 32;
            sink.Put(l, d * scale * q);
        }
    }
}
