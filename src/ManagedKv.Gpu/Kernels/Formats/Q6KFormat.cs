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
        long b = row + 210L * (unit >> 3);
        int c = unit & 7, h = c >> 2, k = c & 3;
        float d = Bits.F16(w, b + 208);
        long ql = b + 64 * h + 32 * (k & 1), qh = b + 128 + 32 * h;
        int shift = 4 * (k >> 1);
        for (int l = 0; l < 32; l++)
        {
            int q = (((w[ql + l] >> shift) & 0xF) | (((w[qh + l] >> (2 * k)) & 3) << 4)) - 32;
            int sc = Bits.S8(w, b + 192 + 8 * h + 2 * k + (l >> 4));
            sink.Put(l, d * sc * q);
        }
    }
}
