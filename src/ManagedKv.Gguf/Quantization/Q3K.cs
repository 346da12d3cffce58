namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q3_K</c>: 256 values in 110 bytes (3.4375 bits per weight), 16 sub-blocks of 16 values,
/// x = (d·(sc[s] − 32))·(q − 4) with 3-bit codes q and 6-bit sub-block scales sc.
/// <code>
/// offset size field
///      0   32 uint8 hmask[32]  bit 2 of the codes: byte l, bit k → value 32k+l (k = 0..7)
///     32   64 uint8 qs[64]     low 2 bits, laid out as in Q2_K
///     96   12 uint8 scales[12] sub-block s: low 4 bits in byte s (s &lt; 8, bits 0..3) or byte s−8
///                              (s ≥ 8, bits 4..7); high 2 bits in byte 8 + s%4, bits 2·(s/4)..+1
///    108    2 ggml_half d      super-block scale
/// </code>
/// </summary>
public static class Q3K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 110;
    /// <summary>Offset of the high-bit plane.</summary>
    public const int OffsetHmask = 0;
    /// <summary>Offset of the packed low 2 bits.</summary>
    public const int OffsetQs = 32;
    /// <summary>Offset of the 12 packed 6-bit scale bytes.</summary>
    public const int OffsetScales = 96;
    /// <summary>Offset of the f16 super-block scale.</summary>
    public const int OffsetD = 108;

    /// <summary>The 6-bit scale of sub-block <paramref name="s"/> (0..15), before the −32 offset.</summary>
    public static int Scale(ReadOnlySpan<byte> block, int s)
    {
        ReadOnlySpan<byte> sc = block.Slice(OffsetScales, 12);
        int low = s < 8 ? sc[s] & 0xF : sc[s - 8] >> 4;
        return low | (((sc[8 + s % 4] >> (2 * (s / 4))) & 3) << 4);
    }

    /// <summary>The 256 signed codes (q − 4, in −4..3) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q)
    {
        TwoBitPlanes.Unpack(block.Slice(OffsetQs, 64), q);
        ReadOnlySpan<byte> hm = block.Slice(OffsetHmask, 32);
        for (int v = 0; v < BlockSize; v++)
            q[v] = (sbyte)(q[v] - ((hm[v % 32] & (1 << (v / 32))) != 0 ? 0 : 4));
    }

    /// <summary>dequantize_row_q3_K: y = (d·(sc − 32))·(q − 4).</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Rows.Check(src, dst.Length, BlockSize, BlockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockBytes, BlockBytes);
            Span<float> y = dst.Slice(i * BlockSize, BlockSize);
            float dAll = Fp16.Read(b, OffsetD);
            Unpack(b, q);
            for (int s = 0; s < 16; s++)
            {
                float dl = dAll * (Scale(b, s) - 32);
                for (int l = 0; l < 16; ++l) y[16 * s + l] = dl * q[16 * s + l];
            }
        }
    }

    /// <summary>
    /// quantize_row_q3_K_ref: each sub-block of 16 gets make_q3_quants(nmax 4, x²-weighted descent); the
    /// sub-block scales are quantised to 6 bits against iscale = −32/max_scale (signed scale of largest
    /// magnitude), d = 1/iscale, and values are re-rounded against the final d·(sc − 32).
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        Span<sbyte> l = stackalloc sbyte[BlockSize];
        Span<byte> codes = stackalloc byte[BlockSize];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScale = 0, amax = 0;
            for (int j = 0; j < 16; ++j)
            {
                scales[j] = KQuantFit.MakeQ3Quants(4, x.Slice(16 * j, 16), l.Slice(16 * j, 16));
                float scale = MathF.Abs(scales[j]);
                if (scale > amax) { amax = scale; maxScale = scales[j]; }
            }
            Span<byte> sc = b.Slice(OffsetScales, 12);
            sc.Clear();
            if (maxScale != 0)
            {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; ++j)
                {
                    // int8_t l = nearest_int(...): truncated to 8 bits before the clamp
                    int lj = Math.Max(-32, Math.Min(31, (int)(sbyte)QuantMath.NearestInt(iscale * scales[j]))) + 32;
                    if (j < 8) sc[j] = (byte)(lj & 0xF);
                    else sc[j - 8] |= (byte)((lj & 0xF) << 4);
                    lj >>= 4;
                    sc[j % 4 + 8] |= (byte)(lj << (2 * (j / 4)));
                }
                Fp16.Write(b, OffsetD, 1 / iscale);
            }
            else
            {
                Fp16.Write(b, OffsetD, 0f);
            }
            float dAll = Fp16.Read(b, OffsetD);
            for (int j = 0; j < 16; ++j)
            {
                float d = dAll * (sbyte)(Scale(b, j) - 32);
                if (d == 0) continue; // keep make_q3_quants' codes
                for (int ii = 0; ii < 16; ++ii)
                {
                    int li = Math.Max(-4, Math.Min(3, QuantMath.NearestInt(x[16 * j + ii] / d)));
                    l[16 * j + ii] = (sbyte)(li + 4);
                }
            }
            Span<byte> hmask = b.Slice(OffsetHmask, 32);
            hmask.Clear();
            for (int j = 0; j < BlockSize; ++j)
            {
                int code = l[j];
                if (code > 3)
                {
                    hmask[j % 32] |= (byte)(1 << (j / 32));
                    code -= 4;
                }
                codes[j] = (byte)code;
            }
            TwoBitPlanes.Pack(codes, b.Slice(OffsetQs, 64));
        }
    }

    /// <summary>
    /// ggml_vec_dot_q3_K_q8_K (generic scalar order): eight int32 lanes of (sc − 32)·(q·q8) per group of 8;
    /// sums[l] += (dx·dy)·aux32[l]; lane sums added at the end.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8K.BlockBytes);
        Span<sbyte> a = stackalloc sbyte[BlockSize];
        Span<int> aux32 = stackalloc int[8];
        Span<float> sums = stackalloc float[8];
        sums.Clear();
        for (int i = 0; i < nb; ++i)
        {
            ReadOnlySpan<byte> bx = x.Slice(i * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            Unpack(bx, a);
            aux32.Clear();
            for (int j = 0; j < 16; ++j)
                KDot.Accumulate(aux32, Scale(bx, j) - 32, a.Slice(16 * j, 16), by.Slice(Q8K.OffsetQs + 16 * j, 16));
            float d = Fp16.Read(bx, OffsetD) * Q8K.ReadD(by);
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
        }
        float sumf = 0;
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return sumf;
    }
}
