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
        // Super-blocks are 144 bytes and rows start 4-aligned, so d/dmin and the nibbles are read as whole words:
        // 9 loads instead of 36, all issued before the first value is used.
        long b = row + 144L * (unit >> 3);
        int c = unit & 7;
        var words = w.Cast<uint>();
        uint dd = words[b >> 2];
        float d = Bits.HalfToFloat(dd & 0xFFFF), dmin = Bits.HalfToFloat(dd >> 16);
        KScales.Get(w, b + 4, c, out int sc, out int m);
        float dl = d * sc, ml = dmin * m;
        long qs = (b + 16 + 32 * (c >> 1)) >> 2;
        int shift = 4 * (c & 1);
        uint q0 = words[qs], q1 = words[qs + 1], q2 = words[qs + 2], q3 = words[qs + 3];
        uint q4 = words[qs + 4], q5 = words[qs + 5], q6 = words[qs + 6], q7 = words[qs + 7];
        Nibbles(ref sink, 0, q0 >> shift, dl, ml);
        Nibbles(ref sink, 4, q1 >> shift, dl, ml);
        Nibbles(ref sink, 8, q2 >> shift, dl, ml);
        Nibbles(ref sink, 12, q3 >> shift, dl, ml);
        Nibbles(ref sink, 16, q4 >> shift, dl, ml);
        Nibbles(ref sink, 20, q5 >> shift, dl, ml);
        Nibbles(ref sink, 24, q6 >> shift, dl, ml);
        Nibbles(ref sink, 28, q7 >> shift, dl, ml);
    }

    /// <summary>Values i … i+3: the low nibble of each byte of <paramref name="v"/>, x = dl·q − ml.</summary>
    private static void Nibbles<TSink>(ref TSink sink, int i, uint v, float dl, float ml) where TSink : struct, IValueSink
    {
        sink.Put(i, dl * (int)(v & 0xF) - ml);
        sink.Put(i + 1, dl * (int)((v >> 8) & 0xF) - ml);
        sink.Put(i + 2, dl * (int)((v >> 16) & 0xF) - ml);
        sink.Put(i + 3, dl * (int)((v >> 24) & 0xF) - ml);
    }
}
