using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q2_K super-blocks (84 bytes: 16 scale/min nibble pairs, 64 bytes of 2-bit planes, f16 d, f16 dmin); unit c of a block is values 32c..32c+31, x = d·sc·q − dmin·m per 16 values.</summary>
internal readonly struct Q2KFormat : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        long b = row + 84L * (unit >> 3);
        int c = unit & 7, h = c >> 2, k = c & 3;
        float d = Bits.F16(w, b + 80), dmin = Bits.F16(w, b + 82);
        for (int l = 0; l < 32; l++)
        {
            int q = (w[b + 16 + 32 * h + l] >> (2 * k)) & 3;
            int sc = w[b + 8 * h + 2 * k + (l >> 4)];
            float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
            sink.Put(l, dl * q - ml);
        }
    }
}
