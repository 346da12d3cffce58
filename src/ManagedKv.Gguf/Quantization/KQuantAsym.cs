namespace ManagedKv.Gguf;

/// <summary>
/// The parts of Q4_K and Q5_K that differ only in code width: d and dmin at offsets 0 and 2, twelve
/// packed 6-bit scale/min bytes at offset 4, then the codes.
/// </summary>
internal static class KQuantAsym
{
    /// <summary>Packs 256 codes (one byte each) into a block's code bytes.</summary>
    public delegate void PackCodes(ReadOnlySpan<byte> codes, Span<byte> block);

    /// <summary>Unpacks a block's 256 codes into one signed byte each, in value order.</summary>
    public delegate void UnpackCodes(ReadOnlySpan<byte> block, Span<sbyte> codes);

    private const int BlockSize = 256;

    /// <summary>dequantize_row_q4_K / q5_K: per sub-block j, d1 = d·sc[j] and m1 = dmin·m[j], y = d1·q − m1.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, int blockBytes, UnpackCodes unpack)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, blockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * blockBytes, blockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float d = Fp16.Read(b, 0), min = Fp16.Read(b, 2);
            ReadOnlySpan<byte> packed = b.Slice(4, 12);
            unpack(b, q);
            for (int j = 0; j < 8; j++)
            {
                KQuantFit.GetScaleMinK4(j, packed, out byte sc, out byte m);
                float d1 = d * sc, m1 = min * m;
                for (int l = 0; l < 32; ++l) y[32 * j + l] = d1 * q[32 * j + l] - m1;
            }
        }
    }

    /// <summary>quantize_row_q4_K_ref / quantize_row_q5_K_ref, parameterised by code width and search grid.</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst, int blockBytes, int nmax, float rmin, float rdelta,
        int nstep, PackCodes pack)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, blockBytes);
        Span<byte> l = stackalloc byte[BlockSize];
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        Span<byte> ls = stackalloc byte[8];
        Span<byte> lm = stackalloc byte[8];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * blockBytes, blockBytes);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; ++j)
            {
                ReadOnlySpan<float> xs = x.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int k = 0; k < 32; ++k) sumX2 += xs[k] * xs[k];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int k = 0; k < 32; ++k) weights[k] = avX + MathF.Abs(xs[k]);
                scales[j] = KQuantFit.MakeQkx2Quants(nmax, xs, weights, l.Slice(32 * j, 32), laux, out mins[j], rmin, rdelta, nstep, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; ++j)
            {
                // uint8_t ls = nearest_int(...): the int is truncated to 8 bits before the clamp.
                ls[j] = Math.Min((byte)63, (byte)QuantMath.NearestInt(invScale * scales[j]));
                lm[j] = Math.Min((byte)63, (byte)QuantMath.NearestInt(invMin * mins[j]));
            }
            Span<byte> packed = b.Slice(4, 12);
            KQuantFit.PackScaleMinK4(ls, lm, packed);
            Fp16.Write(b, 0, maxScale / 63f);
            Fp16.Write(b, 2, maxMin / 63f);
            float d0 = Fp16.Read(b, 0), dmin0 = Fp16.Read(b, 2);
            for (int j = 0; j < 8; ++j)
            {
                KQuantFit.GetScaleMinK4(j, packed, out byte sc, out byte m);
                float d = d0 * sc;
                if (d == 0) continue; // keep make_qkx2_quants' codes
                float dm = dmin0 * m;
                for (int ii = 0; ii < 32; ++ii)
                {
                    int li = QuantMath.NearestInt((x[32 * j + ii] + dm) / d);
                    l[32 * j + ii] = (byte)Math.Max(0, Math.Min(nmax, li));
                }
            }
            pack(l, b);
        }
    }

    /// <summary>ggml_vec_dot_q4_K_q8_K / ggml_vec_dot_q5_K_q8_K in the generic scalar order.</summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, int blockBytes, UnpackCodes unpack)
    {
        int nb = Rows.CheckDot(x, y, blockBytes, Q8K.BlockBytes);
        Span<sbyte> a = stackalloc sbyte[BlockSize];
        Span<int> aux32 = stackalloc int[8];
        Span<float> sums = stackalloc float[8];
        sums.Clear();
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ReadOnlySpan<byte> bx = x.Slice(i * blockBytes, blockBytes);
            ReadOnlySpan<byte> by = y.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            unpack(bx, a);
            aux32.Clear();
            ReadOnlySpan<byte> packed = bx.Slice(4, 12);
            int sumi = 0;
            for (int j = 0; j < 16; ++j)
            {
                KQuantFit.GetScaleMinK4(j / 2, packed, out _, out byte m);
                sumi += Q8K.ReadBsum(by, j) * m;
            }
            for (int j = 0; j < 8; ++j)
            {
                KQuantFit.GetScaleMinK4(j, packed, out byte sc, out _);
                KDot.Accumulate(aux32, sc, a.Slice(32 * j, 32), by.Slice(Q8K.OffsetQs + 32 * j, 32));
            }
            float dy = Q8K.ReadD(by);
            float d = Fp16.Read(bx, 0) * dy;
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
            float dmin = Fp16.Read(bx, 2) * dy;
            sumf -= dmin * sumi;
        }
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return sumf;
    }
}
