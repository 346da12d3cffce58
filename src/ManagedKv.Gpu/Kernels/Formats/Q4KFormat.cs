using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q4_K super-blocks (144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles); unit c is sub-block c, x = d·sc·q − dmin·m.</summary>
internal readonly struct Q4KFormat : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 144L * (unit >> 3);
        int c = unit & 7;
        float d = Bits.F16(w, b), dmin = Bits.F16(w, b + 2);
        KScales.Get(w, b + 4, c, out int sc, out int m);
        float dl = d * sc, ml = dmin * m;
        long qs = b + 16 + 32 * (c >> 1);
        int shift = 4 * (c & 1);
        for (int l = 0; l < 32; l++) sink.Put(l, dl * ((w[qs + l] >> shift) & 0xF) - ml);
    }
}
