using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q6_K super-blocks (210 bytes: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8 scales, f16 d); unit c is values 32c..32c+31, x = d·sc·(q − 32) per 16 values.</summary>
internal readonly struct Q6KFormat : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        // Super-blocks are 210 bytes, so only 2-byte alignment holds: codes are read as 16-bit pairs, eight loads in
        // flight per step instead of three byte loads per value.
        long b = row + 210L * (unit >> 3);
        int c = unit & 7, h = c >> 2, k = c & 3;
        var halves = w.Cast<ushort>();
        float d = Bits.HalfToFloat(halves[(b + 208) >> 1]);
        long ql = (b + 64 * h + 32 * (k & 1)) >> 1, qh = (b + 128 + 32 * h) >> 1;
        int shift = 4 * (k >> 1), highShift = 2 * k;
        int sc0 = Bits.S8(w, b + 192 + 8 * h + 2 * k), sc1 = Bits.S8(w, b + 192 + 8 * h + 2 * k + 1);
        for (int p = 0; p < 16; p += 4)
        {
            uint l0 = halves[ql + p], l1 = halves[ql + p + 1], l2 = halves[ql + p + 2], l3 = halves[ql + p + 3];
            uint h0 = halves[qh + p], h1 = halves[qh + p + 1], h2 = halves[qh + p + 2], h3 = halves[qh + p + 3];
            int sc = p < 8 ? sc0 : sc1; // values 0-15 use the first scale, 16-31 the second
            Pair(ref sink, 2 * p, l0, h0, shift, highShift, d, sc);
            Pair(ref sink, 2 * p + 2, l1, h1, shift, highShift, d, sc);
            Pair(ref sink, 2 * p + 4, l2, h2, shift, highShift, d, sc);
            Pair(ref sink, 2 * p + 6, l3, h3, shift, highShift, d, sc);
        }
    }

    /// <summary>Values i and i+1 from the two bytes of <paramref name="low"/> and <paramref name="high"/>: x = d·sc·(q − 32).</summary>
    private static void Pair<TSink>(ref TSink sink, int i, uint low, uint high, int shift, int highShift, float d, int sc)
        where TSink : struct, IValueSink
    {
        int q0 = (int)(((low >> shift) & 0xF) | (((high >> highShift) & 3) << 4)) - 32;
        int q1 = (int)(((low >> (8 + shift)) & 0xF) | (((high >> (8 + highShift)) & 3) << 4)) - 32;
        sink.Put(i, d * sc * q0);
        sink.Put(i + 1, d * sc * q1);
    }
}
