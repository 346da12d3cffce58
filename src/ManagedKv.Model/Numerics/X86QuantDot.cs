using System.Buffers.Binary;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Numerics;

/// <summary>
/// The quantised dot products of ggml-cpu's x86 kernels (arch/x86/quants.c, AVX2 with AVX-VNNI) and of
/// llamafile's <c>tinyBLAS_Q0_AVX</c>, reproduced lane for lane. All of them keep eight 32-bit integer lanes
/// per block: lane t collects the products of the elements whose position inside their 32-element group is
/// 4t..4t+3 (that is what <c>maddubs</c>/<c>madd</c>/<c>dpbusd</c> pair up). Integer sums are exact, so only
/// the float steps matter: per block <c>acc[t] = fma(d, (float)lane[t], acc[t])</c>, then
/// <see cref="SimdReduce.HorizontalSum8"/>. The activation row is in the weight type's vec_dot type
/// (<see cref="QuantDot.VecDotType"/>), encoded as llama.cpp's x86 <c>quantize_row_*</c> does.
/// </summary>
public static class X86QuantDot
{
    private const int Lanes = 8;

    /// <summary>ggml_vec_dot_q8_0_q8_0 (AVX2) = tinyBLAS_Q0_AVX on Q8_0: acc[t] += (dx·dy)·lane[t].</summary>
    public static float Q8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => Lane8Q0(GgmlType.Q8_0, w, a);

    /// <summary>ggml_vec_dot_q4_0_q8_0 (AVX2) = tinyBLAS_Q0_AVX on Q4_0 (unrepacked rows), codes q − 8.</summary>
    public static float Q4_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => Lane8Q0(GgmlType.Q4_0, w, a);

    /// <summary>ggml_vec_dot_q5_0_q8_0 (AVX2) = tinyBLAS_Q0_AVX on Q5_0, codes q − 16.</summary>
    public static float Q5_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => Lane8Q0(GgmlType.Q5_0, w, a);

    /// <summary>
    /// ggml_vec_dot_q4_1_q8_1 (AVX2): acc[t] = fma(dx·dy, lane[t], acc[t]) on the unsigned codes, and the
    /// offsets as the scalar <c>summs = fma(m, s, summs)</c> (GCC contracted it); result hsum(acc) + summs.
    /// </summary>
    public static float Q4_1(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => Lane8Q1(GgmlType.Q4_1, w, a);

    /// <summary>ggml_vec_dot_q5_1_q8_1 (AVX2): as <see cref="Q4_1"/> with the fifth bit of each code.</summary>
    public static float Q5_1(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => Lane8Q1(GgmlType.Q5_1, w, a);

    /// <summary>
    /// ggml_vec_dot_q2_K_q8_K (AVX2). Per super-block: acc[t] = fma(dmin, mins·bsums of sub-blocks 2t and
    /// 2t+1, acc[t]) with dmin = −dy·dmin_x, then acc[t] = fma(dy·dx, lane[t], acc[t]) where the lanes sum
    /// scale(16-group)·q·q8.
    /// </summary>
    public static float Q2K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int nb = CheckK(w, a, Gguf.Q2K.BlockBytes);
        Span<float> acc = stackalloc float[Lanes];
        Span<int> lane = stackalloc int[Lanes];
        Span<sbyte> q = stackalloc sbyte[256];
        acc.Clear();
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> bx = w.Slice(i * Gguf.Q2K.BlockBytes, Gguf.Q2K.BlockBytes);
            ReadOnlySpan<byte> by = a.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            float dy = Q8K.ReadD(by);
            float d = dy * Fp16.Read(bx, Gguf.Q2K.OffsetD);
            float dmin = -dy * Fp16.Read(bx, Gguf.Q2K.OffsetDmin);
            ReadOnlySpan<byte> sc = bx.Slice(Gguf.Q2K.OffsetScales, 16);
            for (int t = 0; t < Lanes; t++)
            {
                int prod = (sc[2 * t] >> 4) * Q8K.ReadBsum(by, 2 * t) + (sc[2 * t + 1] >> 4) * Q8K.ReadBsum(by, 2 * t + 1);
                acc[t] = MathF.FusedMultiplyAdd(dmin, prod, acc[t]);
            }
            Gguf.Q2K.Unpack(bx, q);
            lane.Clear();
            for (int e = 0; e < 256; e++) lane[(e & 31) >> 2] += (sc[e >> 4] & 0xF) * q[e] * (sbyte)by[Q8K.OffsetQs + e];
            for (int t = 0; t < Lanes; t++) acc[t] = MathF.FusedMultiplyAdd(d, lane[t], acc[t]);
        }
        return SimdReduce.HorizontalSum8(acc);
    }

    /// <summary>
    /// ggml_vec_dot_q3_K_q8_K (AVX2): lanes sum (scale − 32)·(q − 4)·q8 over 16-element scale groups, then
    /// acc[t] = fma(dy·dx, lane[t], acc[t]).
    /// </summary>
    public static float Q3K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int nb = CheckK(w, a, Gguf.Q3K.BlockBytes);
        Span<float> acc = stackalloc float[Lanes];
        Span<int> lane = stackalloc int[Lanes];
        Span<sbyte> q = stackalloc sbyte[256];
        Span<int> sc = stackalloc int[16];
        acc.Clear();
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> bx = w.Slice(i * Gguf.Q3K.BlockBytes, Gguf.Q3K.BlockBytes);
            ReadOnlySpan<byte> by = a.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            float d = Q8K.ReadD(by) * Fp16.Read(bx, Gguf.Q3K.OffsetD);
            for (int s = 0; s < 16; s++) sc[s] = Gguf.Q3K.Scale(bx, s) - 32;
            Gguf.Q3K.Unpack(bx, q);
            lane.Clear();
            for (int e = 0; e < 256; e++) lane[(e & 31) >> 2] += sc[e >> 4] * q[e] * (sbyte)by[Q8K.OffsetQs + e];
            for (int t = 0; t < Lanes; t++) acc[t] = MathF.FusedMultiplyAdd(d, lane[t], acc[t]);
        }
        return SimdReduce.HorizontalSum8(acc);
    }

    /// <summary>
    /// ggml_vec_dot_q4_K_q8_K (AVX2): lanes sum scale(32-group)·q·q8, acc[t] = fma(dy·dx, lane[t], acc[t]);
    /// the mins go to a 4-lane accumulator accm[u] = fma(−dy·dmin_x, m[2u]·bsum32[2u] + m[2u+1]·bsum32[2u+1],
    /// accm[u]) reduced as (0+2)+(1+3); result hsum(acc) + that.
    /// </summary>
    public static float Q4K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => K4Family(GgmlType.Q4_K, w, a);

    /// <summary>
    /// ggml_vec_dot_q5_K_q8_K (AVX2): as <see cref="Q4K"/> with 5-bit codes, but the mins are summed as one
    /// integer per super-block and added with the scalar <c>summs = fma(−dy·dmin_x, Σ, summs)</c>.
    /// </summary>
    public static float Q5K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a) => K4Family(GgmlType.Q5_K, w, a);

    /// <summary>
    /// ggml_vec_dot_q6_K_q8_K (AVX2): lanes sum scale(16-group)·q·q8 over the unsigned codes (0..63) minus
    /// 32·(scale·bsum) of 16-groups 2t and 2t+1, then acc[t] = fma(dy·dx, lane[t], acc[t]).
    /// </summary>
    public static float Q6K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int nb = CheckK(w, a, Gguf.Q6K.BlockBytes);
        Span<float> acc = stackalloc float[Lanes];
        Span<int> lane = stackalloc int[Lanes];
        Span<sbyte> q = stackalloc sbyte[256];
        acc.Clear();
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> bx = w.Slice(i * Gguf.Q6K.BlockBytes, Gguf.Q6K.BlockBytes);
            ReadOnlySpan<byte> by = a.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            float d = Q8K.ReadD(by) * Fp16.Read(bx, Gguf.Q6K.OffsetD);
            ReadOnlySpan<byte> sc = bx.Slice(Gguf.Q6K.OffsetScales, 16);
            Gguf.Q6K.Unpack(bx, q);
            lane.Clear();
            for (int e = 0; e < 256; e++) lane[(e & 31) >> 2] += (sbyte)sc[e >> 4] * (q[e] + 32) * (sbyte)by[Q8K.OffsetQs + e];
            for (int t = 0; t < Lanes; t++)
            {
                lane[t] -= 32 * (Q8K.ReadBsum(by, 2 * t) * (sbyte)sc[2 * t] + Q8K.ReadBsum(by, 2 * t + 1) * (sbyte)sc[2 * t + 1]);
                acc[t] = MathF.FusedMultiplyAdd(d, lane[t], acc[t]);
            }
        }
        return SimdReduce.HorizontalSum8(acc);
    }

    /// <summary>Q8_0/Q4_0/Q5_0 weights against Q8_0 activations: the eight-lane block loop.</summary>
    private static float Lane8Q0(GgmlType type, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int bytes = GgmlTypeInfo.Get(type).BlockBytes;
        int nb = CheckBlocks(w, a, bytes, Gguf.Q8_0.BlockBytes);
        Span<float> acc = stackalloc float[Lanes];
        Span<int> qx = stackalloc int[32];
        acc.Clear();
        for (int ib = 0; ib < nb; ib++)
        {
            ReadOnlySpan<byte> bx = w.Slice(ib * bytes, bytes);
            ReadOnlySpan<byte> by = a.Slice(ib * Gguf.Q8_0.BlockBytes, Gguf.Q8_0.BlockBytes);
            Codes32(type, bx, qx);
            float d = Fp16.Read(bx, 0) * Fp16.Read(by, Gguf.Q8_0.OffsetD);
            for (int t = 0; t < Lanes; t++)
            {
                int s = 0;
                for (int k = 4 * t; k < 4 * t + 4; k++) s += qx[k] * (sbyte)by[Gguf.Q8_0.OffsetQs + k];
                acc[t] = MathF.FusedMultiplyAdd(d, s, acc[t]);
            }
        }
        return SimdReduce.HorizontalSum8(acc);
    }

    /// <summary>Q4_1/Q5_1 weights against Q8_1 activations: eight lanes plus the scalar min term.</summary>
    private static float Lane8Q1(GgmlType type, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int bytes = GgmlTypeInfo.Get(type).BlockBytes;
        int nb = CheckBlocks(w, a, bytes, Gguf.Q8_1.BlockBytes);
        Span<float> acc = stackalloc float[Lanes];
        Span<int> qx = stackalloc int[32];
        acc.Clear();
        float summs = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ReadOnlySpan<byte> bx = w.Slice(ib * bytes, bytes);
            ReadOnlySpan<byte> by = a.Slice(ib * Gguf.Q8_1.BlockBytes, Gguf.Q8_1.BlockBytes);
            summs = MathF.FusedMultiplyAdd(Fp16.Read(bx, 2), Fp16.Read(by, Gguf.Q8_1.OffsetS), summs);
            Codes32(type, bx, qx);
            float d = Fp16.Read(bx, 0) * Fp16.Read(by, Gguf.Q8_1.OffsetD);
            for (int t = 0; t < Lanes; t++)
            {
                int s = 0;
                for (int k = 4 * t; k < 4 * t + 4; k++) s += qx[k] * (sbyte)by[Gguf.Q8_1.OffsetQs + k];
                acc[t] = MathF.FusedMultiplyAdd(d, s, acc[t]);
            }
        }
        return SimdReduce.HorizontalSum8(acc) + summs;
    }

    /// <summary>Q4_K and Q5_K: 32-element scale groups with 6-bit packed scales and mins.</summary>
    private static float K4Family(GgmlType type, ReadOnlySpan<byte> w, ReadOnlySpan<byte> a)
    {
        int bytes = GgmlTypeInfo.Get(type).BlockBytes;
        int nb = CheckK(w, a, bytes);
        Span<float> acc = stackalloc float[Lanes];
        Span<float> accm = stackalloc float[4];
        Span<int> lane = stackalloc int[Lanes];
        Span<sbyte> q = stackalloc sbyte[256];
        Span<byte> sc = stackalloc byte[8];
        Span<byte> mn = stackalloc byte[8];
        acc.Clear();
        accm.Clear();
        float summs = 0;
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> bx = w.Slice(i * bytes, bytes);
            ReadOnlySpan<byte> by = a.Slice(i * Q8K.BlockBytes, Q8K.BlockBytes);
            float dy = Q8K.ReadD(by);
            float d = dy * Fp16.Read(bx, 0);
            float dmin = -dy * Fp16.Read(bx, 2);
            KScales.Unpack6(bx.Slice(4, 12), sc, mn);
            if (type == GgmlType.Q4_K)
            {
                for (int u = 0; u < 4; u++)
                    accm[u] = MathF.FusedMultiplyAdd(dmin, mn[2 * u] * Bsum32(by, 2 * u) + mn[2 * u + 1] * Bsum32(by, 2 * u + 1), accm[u]);
                Gguf.Q4K.Unpack(bx, q);
            }
            else
            {
                int total = 0;
                for (int j = 0; j < 8; j++) total += mn[j] * Bsum32(by, j);
                summs = MathF.FusedMultiplyAdd(dmin, total, summs);
                Gguf.Q5K.Unpack(bx, q);
            }
            lane.Clear();
            for (int e = 0; e < 256; e++) lane[(e & 31) >> 2] += sc[e >> 5] * q[e] * (sbyte)by[Q8K.OffsetQs + e];
            for (int t = 0; t < Lanes; t++) acc[t] = MathF.FusedMultiplyAdd(d, lane[t], acc[t]);
        }
        float sum = SimdReduce.HorizontalSum8(acc);
        return type == GgmlType.Q4_K ? sum + ((accm[0] + accm[2]) + (accm[1] + accm[3])) : sum + summs;
    }

    /// <summary>The 32 codes of a Q4_0/Q5_0/Q8_0 (signed) or Q4_1/Q5_1 (unsigned) block, in value order.</summary>
    internal static void Codes32(GgmlType type, ReadOnlySpan<byte> b, Span<int> q)
    {
        switch (type)
        {
            case GgmlType.Q8_0:
                for (int j = 0; j < 32; j++) q[j] = (sbyte)b[Gguf.Q8_0.OffsetQs + j];
                break;
            case GgmlType.Q4_0:
            case GgmlType.Q4_1:
            {
                int off = type == GgmlType.Q4_0 ? Gguf.Q4_0.OffsetQs : Gguf.Q4_1.OffsetQs;
                int bias = type == GgmlType.Q4_0 ? 8 : 0;
                for (int j = 0; j < 16; j++)
                {
                    q[j] = (b[off + j] & 0xF) - bias;
                    q[j + 16] = (b[off + j] >> 4) - bias;
                }
                break;
            }
            case GgmlType.Q5_0:
            case GgmlType.Q5_1:
            {
                int off = type == GgmlType.Q5_0 ? Gguf.Q5_0.OffsetQs : Gguf.Q5_1.OffsetQs;
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[(type == GgmlType.Q5_0 ? Gguf.Q5_0.OffsetQh : Gguf.Q5_1.OffsetQh)..]);
                int bias = type == GgmlType.Q5_0 ? 16 : 0;
                for (int j = 0; j < 16; j++)
                {
                    q[j] = ((b[off + j] & 0xF) | (int)(((qh >> j) & 1) << 4)) - bias;
                    q[j + 16] = ((b[off + j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - bias;
                }
                break;
            }
            default:
                throw new NotSupportedException($"{type} has no 32-element block codes");
        }
    }

    /// <summary>Sum of the Q8_K codes of 32-element group <paramref name="j"/> (two 16-element bsums).</summary>
    internal static int Bsum32(ReadOnlySpan<byte> q8k, int j) => Q8K.ReadBsum(q8k, 2 * j) + Q8K.ReadBsum(q8k, 2 * j + 1);

    private static int CheckK(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int blockBytes) =>
        CheckBlocks(w, a, blockBytes, Q8K.BlockBytes);

    internal static int CheckBlocks(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int weightBlockBytes, int activationBlockBytes)
    {
        int nb = w.Length / weightBlockBytes;
        if (w.Length % weightBlockBytes != 0 || a.Length != nb * activationBlockBytes)
            throw new ArgumentException($"weight row of {w.Length} bytes does not pair with an activation row of {a.Length} bytes");
        return nb;
    }
}
