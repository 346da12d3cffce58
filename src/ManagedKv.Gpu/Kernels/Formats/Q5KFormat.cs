using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q5_K super-blocks (176 bytes: f16 d, f16 dmin, 12 bytes of scales and mins, 32 bytes of fifth bits, 128 bytes of nibbles); unit c is sub-block c, x = d·sc·q − dmin·m.</summary>
internal readonly struct Q5KFormat : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 176L * (unit >> 3);
        int c = unit & 7;
        float d = Bits.F16(w, b), dmin = Bits.F16(w, b + 2);
        KScales.Get(w, b + 4, c, out int sc, out int m);
        float dl = d * sc, ml = dmin * m;
        long qs = b + 48 + 32 * (c >> 1);
        int shift = 4 * (c & 1);
        for (int l = 0; l < 32; l++)
        {
            int q = ((w[qs + l] >> shift) & 0xF) + ((w[b + 16 + l] & (1 << c)) != 0 ? 16 : 0);
            sink.Put(l, dl * q - ml);
        }
    }
}
