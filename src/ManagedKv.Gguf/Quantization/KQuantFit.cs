namespace ManagedKv.Gguf;

/// <summary>
/// The scale-fitting searches of ggml-quants.c that the K-quant reference quantisers
/// (<c>quantize_row_qX_K_ref</c>) call. Every expression keeps C's evaluation order and f32 precision,
/// because a different rounding of one partial sum can pick a different scale and change the bytes.
/// ggml-quants.c is compiled into ggml-base without FMA flags, so none of these products are fused.
/// </summary>
internal static class KQuantFit
{
    /// <summary>ggml-quants.c GROUP_MAX_EPS: groups whose |max| is below this quantise to all zeros.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// <c>make_qx_quants</c> for symmetric codes in [-nmax, nmax-1], stored offset by nmax in
    /// <paramref name="l"/>. Only the paths the reference quantisers use are implemented: rmse_type 1
    /// with weights x² (no importance weights).
    /// </summary>
    /// <returns>The fitted scale (x ≈ scale·(L − nmax)).</returns>
    public static float MakeQxQuants(int nmax, ReadOnlySpan<float> x, Span<sbyte> l)
    {
        if (!StartFromMax(nmax, x, l, nmax, out float max, out float sumlx, out float suml2)) return 0f;
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        Span<sbyte> laux = stackalloc sbyte[x.Length];
        for (int step = -9; step <= 9; ++step)
        {
            if (step == 0) continue;
            RoundWeighted(nmax, -(nmax + 0.1f * step) / max, x, laux, nmax, out sumlx, out suml2);
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                laux.CopyTo(l);
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// <c>make_q3_quants</c> with do_rmse = true: a start from the max-abs scale, then up to five rounds of
    /// coordinate descent on the x²-weighted error. Codes are stored offset by nmax.
    /// </summary>
    public static float MakeQ3Quants(int nmax, ReadOnlySpan<float> x, Span<sbyte> l)
    {
        // The descent below works on the signed codes; the nmax offset is added at the end.
        if (!StartFromMax(nmax, x, l, 0, out _, out float sumlx, out float suml2)) return 0f;
        int n = x.Length;
        for (int itry = 0; itry < 5; ++itry)
        {
            int changed = 0;
            for (int i = 0; i < n; ++i)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * l[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * l[i] * l[i];
                    int newL = Math.Max(-nmax, Math.Min(nmax - 1, QuantMath.NearestInt(x[i] * sl2 / slx)));
                    if (newL != l[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            l[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            ++changed;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; ++i) l[i] = (sbyte)(l[i] + nmax);
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /// <summary>
    /// The start of make_qx_quants and make_q3_quants: max = the signed value of largest magnitude; a group
    /// whose |max| is below <see cref="GroupMaxEps"/> gets all-zero codes and false; otherwise the codes at
    /// iscale = −nmax/max as <see cref="RoundWeighted"/>.
    /// </summary>
    private static bool StartFromMax(int nmax, ReadOnlySpan<float> x, Span<sbyte> l, int offset,
        out float max, out float sumlx, out float suml2)
    {
        max = QuantMath.MaxByMagnitude(x, out float amax);
        if (amax < GroupMaxEps)
        {
            l[..x.Length].Clear();
            sumlx = suml2 = 0;
            return false;
        }
        RoundWeighted(nmax, -nmax / max, x, l, offset, out sumlx, out suml2);
        return true;
    }

    /// <summary>
    /// The rounding pass of make_qx_quants / make_q3_quants: codes clamp(nearest_int(iscale·x), −nmax, nmax − 1),
    /// stored plus <paramref name="offset"/> in <paramref name="l"/>, and the x²-weighted sums Σ w·x·code and
    /// Σ w·code² accumulated in C's order.
    /// </summary>
    private static void RoundWeighted(int nmax, float iscale, ReadOnlySpan<float> x, Span<sbyte> l, int offset,
        out float sumlx, out float suml2)
    {
        sumlx = suml2 = 0;
        for (int i = 0; i < x.Length; ++i)
        {
            int li = Math.Max(-nmax, Math.Min(nmax - 1, QuantMath.NearestInt(iscale * x[i])));
            l[i] = (sbyte)(li + offset);
            float w = x[i] * x[i];
            sumlx += w * x[i] * li;
            suml2 += w * li * li;
        }
    }

    /// <summary>
    /// <c>make_qkx2_quants</c>: asymmetric codes in [0, nmax] with x ≈ scale·L − min, searching
    /// nstep+1 candidate inverse scales and a weighted least-squares (scale, min) for each.
    /// </summary>
    /// <param name="nmax">Largest code.</param>
    /// <param name="x">The group's values.</param>
    /// <param name="weights">Per-value error weights.</param>
    /// <param name="l">Receives the codes.</param>
    /// <param name="laux">Scratch of the group's length.</param>
    /// <param name="theMin">Receives −min (a non-negative offset).</param>
    /// <param name="rmin">First candidate's offset added to nmax.</param>
    /// <param name="rdelta">Step between candidates.</param>
    /// <param name="nstep">Number of steps.</param>
    /// <param name="useMad">Absolute instead of squared error.</param>
    public static float MakeQkx2Quants(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> l,
        Span<byte> laux, out float theMin, float rmin, float rdelta, int nstep, bool useMad)
    {
        int n = x.Length;
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; ++i)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            l[..n].Clear();
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        for (int i = 0; i < n; ++i)
        {
            int li = QuantMath.NearestInt(iscale * (x[i] - min));
            l[i] = (byte)Math.Max(0, Math.Min(nmax, li));
        }
        float bestError = WeightedError(scale, min, l, x, weights, useMad);
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int step = 0; step <= nstep; ++step)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; ++i)
            {
                int li = Math.Max(0, Math.Min(nmax, QuantMath.NearestInt(iscale * (x[i] - min))));
                laux[i] = (byte)li;
                float w = weights[i];
                sumL += w * li;
                sumL2 += w * li * li;
                sumXL += w * li * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = WeightedError(thisScale, thisMin, laux, x, weights, useMad);
                if (curError < bestError)
                {
                    laux[..n].CopyTo(l);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary>
    /// make_qkx2_quants' error of codes <paramref name="l"/> under (scale, min): Σ w·|scale·l + min − x| with
    /// <paramref name="useMad"/>, else Σ w·(scale·l + min − x)².
    /// </summary>
    private static float WeightedError(float scale, float min, ReadOnlySpan<byte> l, ReadOnlySpan<float> x,
        ReadOnlySpan<float> weights, bool useMad)
    {
        float error = 0;
        for (int i = 0; i < x.Length; ++i)
        {
            float diff = scale * l[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            error += weights[i] * diff;
        }
        return error;
    }

    /// <summary>
    /// <c>get_scale_min_k4</c>: the 6-bit scale and min of sub-block <paramref name="j"/> (0..7) from the
    /// 12 packed bytes of a Q4_K/Q5_K block. Bytes 0..3 hold scales 0..3 in bits 0..5, bytes 4..7 hold mins
    /// 0..3 in bits 0..5; sub-blocks 4..7 keep their low 4 bits in bytes 8..11 (scale low nibble, min high
    /// nibble) and their top 2 bits in bits 6..7 of bytes 0..3 (scale) and 4..7 (min).
    /// </summary>
    public static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>The inverse of <see cref="GetScaleMinK4"/> for all eight sub-blocks (quantize_row_q4_K_ref's packing).</summary>
    public static void PackScaleMinK4(ReadOnlySpan<byte> scales, ReadOnlySpan<byte> mins, Span<byte> q)
    {
        for (int j = 0; j < 8; ++j)
        {
            byte ls = scales[j], lm = mins[j];
            if (j < 4)
            {
                q[j] = ls;
                q[j + 4] = lm;
            }
            else
            {
                q[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                q[j - 4] |= (byte)((ls >> 4) << 6);
                q[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }
}
