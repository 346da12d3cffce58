namespace ManagedKv.Gguf;

/// <summary>
/// The quantiser and dot product of Q4_K and Q5_K, which differ only in code width: d, dmin, then twelve
/// packed 6-bit scale/min bytes (<see cref="KQuantFit.GetScaleMinK4"/>), then the codes.
/// </summary>
internal static class KQuantAsym
{
    /// <summary>quantize_row_q4_K_ref / quantize_row_q5_K_ref, parameterised by code width and search grid.</summary>
    public static void Quantize<T>(ReadOnlySpan<float> src, Span<byte> dst, int nmax, float rmin, float rdelta, int nstep)
        where T : IKMinimumFormat, IPackedFormat
    {
        int nb = Rows.Check(dst, src.Length, T.BlockSize, T.BlockBytes);
        Span<byte> l = stackalloc byte[T.BlockSize];
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        Span<byte> ls = stackalloc byte[8];
        Span<byte> lm = stackalloc byte[8];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * T.BlockSize, T.BlockSize);
            Span<byte> b = dst.Slice(i * T.BlockBytes, T.BlockBytes);
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
            KQuantFit.PackScaleMinK4(ls, lm, b.Slice(T.OffsetScales, 12));
            Fp16.Write(b, T.OffsetD, maxScale / 63f);
            Fp16.Write(b, T.OffsetDmin, maxMin / 63f);
            KQuant.ReRoundWithMinimum<T>(x, l, b, nmax);
            T.Pack(l, b);
        }
    }

    /// <summary>
    /// ggml_vec_dot_q4_K_q8_K / ggml_vec_dot_q5_K_q8_K in the generic scalar order: the lanes of
    /// <see cref="KQuant.DotScaled{T}"/> over sub-blocks of 32, plus sumf −= (dmin·dy)·Σ bsums·m per block.
    /// </summary>
    public static float Dot<T>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) where T : IKMinimumFormat
    {
        int nb = Rows.CheckDot(x, y, T.BlockBytes, Q8K.BlockBytes);
        Span<sbyte> a = stackalloc sbyte[T.BlockSize];
        Span<int> aux32 = stackalloc int[8];
        Span<float> sums = stackalloc float[8];
        sums.Clear();
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ReadOnlySpan<byte> bx = x.Slice(i * T.BlockBytes, T.BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            T.Unpack(bx, a);
            aux32.Clear();
            int sumi = 0;
            for (int j = 0; j < 16; ++j)
            {
                T.ScaleMin(bx, j / 2, out _, out int m); // bsums cover 16 values, sub-blocks 32
                sumi += Q8K.ReadBsum(by, j) * m;
            }
            for (int j = 0; j < 8; ++j)
            {
                T.ScaleMin(bx, j, out int sc, out _);
                KDot.Accumulate(aux32, sc, a.Slice(32 * j, 32), by.Slice(Q8K.OffsetQs + 32 * j, 32));
            }
            float dy = Q8K.ReadD(by);
            float d = Fp16.Read(bx, T.OffsetD) * dy;
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
            float dmin = Fp16.Read(bx, T.OffsetDmin) * dy;
            sumf -= dmin * sumi;
        }
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return sumf;
    }
}
