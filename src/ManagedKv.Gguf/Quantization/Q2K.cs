namespace ManagedKv.Gguf;

/// <summary>
/// ggml <c>block_q2_K</c>: 256 values in 84 bytes (2.625 bits per weight), 16 sub-blocks of 16 values,
/// x = (d·sc[s])·q − dmin·m[s] with 2-bit codes q and 4-bit sub-block scales sc and mins m.
/// <code>
/// offset size field
///      0   16 uint8 scales[16] sub-block s: scale in bits 0..3, min in bits 4..7
///     16   64 uint8 qs[64]     for half h (values 128h..128h+127), byte 32h+l (l &lt; 32):
///                              bits 2k..2k+1 = value 128h+32k+l (k = 0..3)
///     80    2 ggml_half d      super-block scale of the scales
///     82    2 ggml_half dmin   super-block scale of the mins
/// </code>
/// </summary>
public static class Q2K
{
    /// <summary>Values per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 84;
    /// <summary>Offset of the 16 scale/min bytes.</summary>
    public const int OffsetScales = 0;
    /// <summary>Offset of the packed 2-bit codes.</summary>
    public const int OffsetQs = 16;
    /// <summary>Offset of the f16 scale.</summary>
    public const int OffsetD = 80;
    /// <summary>Offset of the f16 min scale.</summary>
    public const int OffsetDmin = 82;

    /// <summary>dequantize_row_q2_K: y = (d·sc)·q − dmin·m per sub-block of 16.</summary>
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst) => KQuant.DequantizeWithMinimum<Format>(src, dst);

    /// <summary>The 256 codes (0..3) of a block, in value order.</summary>
    public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => TwoBitPlanes.Unpack(block.Slice(OffsetQs, 64), q);

    /// <summary>
    /// quantize_row_q2_K_ref: each sub-block of 16 gets make_qkx2_quants(nmax 3, weights |x|, candidates
    /// −0.5 + 0.1·k + 3, k = 0..15, absolute error); scales and mins are quantised to 4 bits against
    /// 15/max; values are re-rounded against the final f16 values.
    /// </summary>
    public static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = Rows.Check(dst, src.Length, BlockSize, BlockBytes);
        Span<byte> l = stackalloc byte[BlockSize];
        Span<byte> laux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        const float q4scale = 15f;
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * BlockSize, BlockSize);
            Span<byte> b = dst.Slice(i * BlockBytes, BlockBytes);
            float maxScale = 0, maxMin = 0;
            // Like KQuantAsym.Quantize's fit, but with weights |x| (not av_x + |x|) and absolute error.
            for (int j = 0; j < 16; ++j)
            {
                ReadOnlySpan<float> xs = x.Slice(16 * j, 16);
                for (int k = 0; k < 16; ++k) weights[k] = MathF.Abs(xs[k]);
                scales[j] = KQuantFit.MakeQkx2Quants(3, xs, weights, l.Slice(16 * j, 16), laux, out mins[j], -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            Span<byte> sc = b.Slice(OffsetScales, 16);
            if (maxScale > 0)
            {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; ++j) sc[j] = (byte)QuantMath.NearestInt(iscale * scales[j]);
                Fp16.Write(b, OffsetD, maxScale / q4scale);
            }
            else
            {
                sc.Clear();
                Fp16.Write(b, OffsetD, 0f);
            }
            if (maxMin > 0)
            {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; ++j) sc[j] |= (byte)(QuantMath.NearestInt(iscale * mins[j]) << 4);
                Fp16.Write(b, OffsetDmin, maxMin / q4scale);
            }
            else
            {
                Fp16.Write(b, OffsetDmin, 0f);
            }
            KQuant.ReRoundWithMinimum<Format>(x, l, b, nmax: 3);
            TwoBitPlanes.Pack(l, b.Slice(OffsetQs, 64));
        }
    }

    /// <summary>
    /// ggml_vec_dot_q2_K_q8_K (generic scalar order): isum = Σ sc·(q·q8) and summs = Σ bsums·m as
    /// integers per block, then sumf += (dy·d)·isum − (dy·dmin)·summs. Not <see cref="KQuantAsym"/>'s dot:
    /// ggml sums this format as one integer per block instead of eight f32 lanes, and the rounding follows.
    /// </summary>
    public static float Dot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        int nb = Rows.CheckDot(x, y, BlockBytes, Q8K.BlockBytes);
        Span<sbyte> q = stackalloc sbyte[BlockSize];
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ReadOnlySpan<byte> bx = x.Slice(i * BlockBytes, BlockBytes);
            ReadOnlySpan<byte> by = y.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            int summs = 0;
            for (int j = 0; j < 16; ++j) summs += Q8K.ReadBsum(by, j) * (bx[OffsetScales + j] >> 4);
            float dy = Q8K.ReadD(by);
            float dall = dy * Fp16.Read(bx, OffsetD);
            float dmin = dy * Fp16.Read(bx, OffsetDmin);
            Unpack(bx, q);
            int isum = 0;
            for (int s = 0; s < 16; ++s)
            {
                int isuml = 0;
                for (int l = 0; l < 16; ++l) isuml += (sbyte)by[Q8K.OffsetQs + 16 * s + l] * q[16 * s + l];
                isum += (bx[OffsetScales + s] & 0xF) * isuml;
            }
            sumf += dall * isum - dmin * summs;
        }
        return sumf;
    }

    /// <summary>This layout for the shared loops of <see cref="KQuant"/>.</summary>
    internal readonly struct Format : IKMinimumFormat
    {
        public static int BlockSize => Q2K.BlockSize;
        public static int BlockBytes => Q2K.BlockBytes;
        public static int SubBlockSize => 16;
        public static int OffsetD => Q2K.OffsetD;
        public static int OffsetDmin => Q2K.OffsetDmin;
        public static int OffsetScales => Q2K.OffsetScales;
        public static void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q) => Q2K.Unpack(block, q);

        public static void ScaleMin(ReadOnlySpan<byte> block, int s, out int scale, out int min)
        {
            byte sc = block[OffsetScales + s];
            scale = sc & 0xF;
            min = sc >> 4;
        }
    }
}
