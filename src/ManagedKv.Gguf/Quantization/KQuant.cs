namespace ManagedKv.Gguf;

/// <summary>
/// Row loops shared by the K-quants (256-value super-blocks), generic over the format's nested <c>Format</c>
/// struct: dequantisation, the re-rounding of codes against the final stored scales that ends every
/// <c>quantize_row_qX_K_ref</c>, and the Q3_K/Q6_K dot product.
/// </summary>
internal static class KQuant
{
    private const int ScaledSubBlock = 16;

    /// <summary>dequantize_row_q3_K / q6_K: y = (d·scale)·q, in that association.</summary>
    public static void DequantizeScaled<T>(ReadOnlySpan<byte> src, Span<float> dst) where T : IKScaledFormat
    {
        int nb = Rows.Check(src, dst.Length, T.BlockSize, T.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[T.BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * T.BlockBytes, T.BlockBytes);
            Span<float> y = dst.Slice(i * T.BlockSize, T.BlockSize);
            float d = Fp16.Read(b, T.OffsetD);
            T.Unpack(b, q);
            for (int s = 0; s < T.BlockSize / ScaledSubBlock; s++)
            {
                float dl = d * T.Scale(b, s);
                for (int l = 0; l < ScaledSubBlock; ++l) y[ScaledSubBlock * s + l] = dl * q[ScaledSubBlock * s + l];
            }
        }
    }

    /// <summary>
    /// dequantize_row_q2_K / q4_K / q5_K: per sub-block, dl = d·sc and ml = dmin·m, y = dl·q − ml (the
    /// skeleton of <see cref="DequantizeScaled{T}"/> with the min term and sub-blocks of either size).
    /// </summary>
    public static void DequantizeWithMinimum<T>(ReadOnlySpan<byte> src, Span<float> dst) where T : IKMinimumFormat
    {
        int nb = Rows.Check(src, dst.Length, T.BlockSize, T.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[T.BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * T.BlockBytes, T.BlockBytes);
            Span<float> y = dst.Slice(i * T.BlockSize, T.BlockSize);
            float d = Fp16.Read(b, T.OffsetD), min = Fp16.Read(b, T.OffsetDmin);
            T.Unpack(b, q);
            for (int s = 0; s < T.BlockSize / T.SubBlockSize; s++)
            {
                T.ScaleMin(b, s, out int sc, out int m);
                float dl = d * sc, ml = min * m;
                for (int l = 0; l < T.SubBlockSize; ++l) y[T.SubBlockSize * s + l] = dl * q[T.SubBlockSize * s + l] - ml;
            }
        }
    }

    /// <summary>
    /// The last step of quantize_row_q3_K_ref / q6_K_ref: with the block's scales already stored, every value
    /// is re-rounded against its final d·scale to clamp(nearest_int(x/(d·scale)), −nmax, nmax − 1) + nmax.
    /// Sub-blocks whose d·scale is 0 keep the fit's codes.
    /// </summary>
    public static void ReRoundScaled<T>(ReadOnlySpan<float> x, Span<sbyte> l, ReadOnlySpan<byte> block, int nmax)
        where T : IKScaledFormat
    {
        float dAll = Fp16.Read(block, T.OffsetD);
        for (int j = 0; j < T.BlockSize / ScaledSubBlock; ++j)
        {
            float d = dAll * T.Scale(block, j);
            if (d == 0) continue;
            for (int ii = 0; ii < ScaledSubBlock; ++ii)
            {
                int li = Math.Max(-nmax, Math.Min(nmax - 1, QuantMath.NearestInt(x[ScaledSubBlock * j + ii] / d)));
                l[ScaledSubBlock * j + ii] = (sbyte)(li + nmax);
            }
        }
    }

    /// <summary>
    /// The last step of quantize_row_q2_K_ref / q4_K_ref / q5_K_ref: with scales, mins, d and dmin already
    /// stored, every value is re-rounded to clamp(nearest_int((x + dmin·m)/(d·sc)), 0, nmax). Sub-blocks whose
    /// d·sc is 0 keep make_qkx2_quants' codes.
    /// </summary>
    public static void ReRoundWithMinimum<T>(ReadOnlySpan<float> x, Span<byte> l, ReadOnlySpan<byte> block, int nmax)
        where T : IKMinimumFormat
    {
        float d0 = Fp16.Read(block, T.OffsetD), dmin0 = Fp16.Read(block, T.OffsetDmin);
        for (int j = 0; j < T.BlockSize / T.SubBlockSize; ++j)
        {
            T.ScaleMin(block, j, out int sc, out int m);
            float d = d0 * sc;
            if (d == 0) continue;
            float dm = dmin0 * m;
            for (int ii = 0; ii < T.SubBlockSize; ++ii)
            {
                int li = QuantMath.NearestInt((x[T.SubBlockSize * j + ii] + dm) / d);
                l[T.SubBlockSize * j + ii] = (byte)Math.Max(0, Math.Min(nmax, li));
            }
        }
    }

    /// <summary>
    /// ggml_vec_dot_q3_K_q8_K / q6_K_q8_K (generic scalar order): per block, eight int32 lanes accumulate
    /// scale·(q·q8) over groups of 8 values; sums[l] += (dx·dy)·aux32[l] in f32; the eight lane sums are
    /// added at the end.
    /// </summary>
    public static float DotScaled<T>(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) where T : IKScaledFormat
    {
        int nb = Rows.CheckDot(x, y, T.BlockBytes, Q8K.BlockBytes);
        Span<sbyte> a = stackalloc sbyte[T.BlockSize];
        Span<int> aux32 = stackalloc int[8];
        Span<float> sums = stackalloc float[8];
        sums.Clear();
        for (int i = 0; i < nb; ++i)
        {
            ReadOnlySpan<byte> bx = x.Slice(i * T.BlockBytes, T.BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            T.Unpack(bx, a);
            aux32.Clear();
            for (int j = 0; j < T.BlockSize / ScaledSubBlock; ++j)
            {
                KDot.Accumulate(aux32, T.Scale(bx, j), a.Slice(ScaledSubBlock * j, ScaledSubBlock),
                    by.Slice(Q8K.OffsetQs + ScaledSubBlock * j, ScaledSubBlock));
            }
            float d = Fp16.Read(bx, T.OffsetD) * Q8K.ReadD(by);
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
        }
        float sumf = 0;
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return sumf;
    }
}
