using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>Q8_0 blocks (34 bytes: f16 d, 32 int8 codes), x = d·q; a unit is a block.</summary>
internal readonly struct Q8_0Format : IWeightFormat
{
    /// <inheritdoc/>
    public int UnitValues => 32;

    /// <inheritdoc/>
    public void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink
    {
        // Blocks are 34 bytes, so codes are read as 16-bit pairs: eight loads in flight per step, not 32 byte loads.
        long b = row + 34L * unit;
        var halves = w.Cast<ushort>();
        long h = b >> 1;
        float d = Bits.HalfToFloat(halves[h]);
        for (int p = 0; p < 16; p += 4)
        {
            uint c0 = halves[h + 1 + p], c1 = halves[h + 2 + p], c2 = halves[h + 3 + p], c3 = halves[h + 4 + p];
            Pair(ref sink, 2 * p, c0, d);
            Pair(ref sink, 2 * p + 2, c1, d);
            Pair(ref sink, 2 * p + 4, c2, d);
            Pair(ref sink, 2 * p + 6, c3, d);
        }
    }

    /// <summary>Values i and i+1: the two signed bytes of <paramref name="codes"/> times d.</summary>
    private static void Pair<TSink>(ref TSink sink, int i, uint codes, float d) where TSink : struct, IValueSink
    {
        // Sign-extend each byte by shifting it to the top and back (arithmetic shift): exact on every backend.
        sink.Put(i, d * ((int)(codes << 24) >> 24));
        sink.Put(i + 1, d * ((int)(codes << 16) >> 24));
    }
}
