using ILGPU;
using ILGPU.Algorithms;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Causal GQA attention over the ragged per-head cache, split-K (flash-decoding) style so long-context decode
/// spreads over many warps: <see cref="Partial{TStore}"/> computes, per (row, query head, split of
/// <see cref="AttentionArgs.Chunk"/> tokens), the split's max m, normaliser l and unnormalised output;
/// <see cref="Combine"/> merges the splits with the usual rescaling; <see cref="Statistics"/> (only when a press
/// asks) turns the stored split-local exponentials into normalised probabilities summed over the counted rows.
/// The output path is the same with or without statistics.
/// </summary>
internal static class AttentionKernels
{
    /// <summary>
    /// One warp per (row, head, split): scores lane-per-token, then outputs lane-per-dimension. Both loops keep four
    /// independent sums (dimensions d, d+1, d+2, d+3 of a dot product; tokens j … j+3 of an output), so a lane has
    /// four loads in flight instead of one dependent chain — a warp is latency-bound, not bandwidth-bound, here.
    /// </summary>
    public static void Partial<TStore>(AttentionArgs a, TStore keys, TStore values) where TStore : struct, IKvStore
    {
        int w = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (w >= a.Rows * a.Heads * a.Splits) return; // uniform across the warp
        int s = w % a.Splits, h = (w / a.Splits) % a.Heads, r = w / (a.Splits * a.Heads);
        int kv = h / a.Group;
        int n = a.Visible[r * a.KvHeads + kv];
        int start = s * a.Chunk;
        int end = n < start + a.Chunk ? n : start + a.Chunk;
        long p = ((long)r * a.Heads + h) * a.Capacity;
        long q = r * a.QStride + (long)h * a.KeyDim;
        long headRow = (long)kv * a.Capacity;
        int keyDim4 = a.KeyDim & ~3;

        float m = float.NegativeInfinity;
        for (int j = start + Warp.LaneIdx; j < end; j += Warp.WarpSize)
        {
            long k = (headRow + j) * a.KeyDim;
            float d0 = 0, d1 = 0, d2 = 0, d3 = 0;
            int d = 0;
            for (; d < keyDim4; d += 4)
            {
                d0 += a.Q[q + d] * keys.Load(k + d);
                d1 += a.Q[q + d + 1] * keys.Load(k + d + 1);
                d2 += a.Q[q + d + 2] * keys.Load(k + d + 2);
                d3 += a.Q[q + d + 3] * keys.Load(k + d + 3);
            }
            for (; d < a.KeyDim; d++) d0 += a.Q[q + d] * keys.Load(k + d);
            float score = ((d0 + d1) + (d2 + d3)) * a.Scale;
            a.P[p + j] = score;
            m = score > m ? score : m;
        }
        m = WarpOps.Max(m);
        float l = 0;
        for (int j = start + Warp.LaneIdx; j < end; j += Warp.WarpSize)
        {
            float e = XMath.Exp(a.P[p + j] - m);
            a.P[p + j] = e;
            l += e;
        }
        l = WarpOps.Sum(l);
        Warp.Barrier(); // every lane reads the exponentials the others wrote

        long o = (((long)r * a.Heads + h) * a.Splits + s) * a.PartialWidth;
        int end4 = start + ((end - start) & ~3);
        for (int d = Warp.LaneIdx; d < a.ValueDim; d += Warp.WarpSize)
        {
            float acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
            int j = start;
            for (; j < end4; j += 4)
            {
                long v = (headRow + j) * a.ValueDim + d;
                acc0 += a.P[p + j] * values.Load(v);
                acc1 += a.P[p + j + 1] * values.Load(v + a.ValueDim);
                acc2 += a.P[p + j + 2] * values.Load(v + 2 * a.ValueDim);
                acc3 += a.P[p + j + 3] * values.Load(v + 3 * a.ValueDim);
            }
            for (; j < end; j++) acc0 += a.P[p + j] * values.Load((headRow + j) * a.ValueDim + d);
            a.Partial[o + d] = (acc0 + acc1) + (acc2 + acc3);
        }
        if (Warp.LaneIdx == 0)
        {
            a.Partial[o + a.ValueDim] = m;
            a.Partial[o + a.ValueDim + 1] = l;
        }
    }

    /// <summary>
    /// Thread i = (row, head, d) merges the splits: M = max m_s, L = Σ l_s·e^(m_s − M), out = Σ o_s·e^(m_s − M) / L
    /// (zero when the row sees no token). The d = 0 thread records M and L for <see cref="Statistics"/>.
    /// </summary>
    public static void Combine(Index1D i, AttentionArgs a, ArrayView<float> output, long outStride)
    {
        int d = i % a.ValueDim, h = (i / a.ValueDim) % a.Heads, r = i / (a.ValueDim * a.Heads);
        long base0 = ((long)r * a.Heads + h) * a.Splits * a.PartialWidth;
        float big = float.NegativeInfinity;
        for (int s = 0; s < a.Splits; s++)
        {
            float ms = a.Partial[base0 + s * a.PartialWidth + a.ValueDim];
            big = ms > big ? ms : big;
        }
        float sum = 0, acc = 0;
        if (big != float.NegativeInfinity)
        {
            for (int s = 0; s < a.Splits; s++)
            {
                long o = base0 + s * a.PartialWidth;
                float ms = a.Partial[o + a.ValueDim];
                if (ms == float.NegativeInfinity) continue;
                float f = XMath.Exp(ms - big);
                sum += a.Partial[o + a.ValueDim + 1] * f;
                acc += a.Partial[o + d] * f;
            }
        }
        output[r * outStride + (long)h * a.ValueDim + d] = sum > 0 ? acc / sum : 0;
        if (d == 0)
        {
            a.Totals[((long)r * a.Heads + h) * 2] = big;
            a.Totals[((long)r * a.Heads + h) * 2 + 1] = sum;
        }
    }

    /// <summary>
    /// Thread i = (head, token j): Σ over the rows with counted[r] ≠ 0 that see j, in row order, of the normalised
    /// probability e^(s_j − M)/L = P[j]·e^(m_split − M)/L.
    /// </summary>
    public static void Statistics(Index1D i, AttentionArgs a, ArrayView<int> counted, ArrayView<float> sums)
    {
        int j = i % a.Capacity, h = i / a.Capacity;
        int kv = h / a.Group;
        int s = j / a.Chunk;
        float acc = 0;
        for (int r = 0; r < a.Rows; r++)
        {
            if (counted[r] == 0 || j >= a.Visible[r * a.KvHeads + kv]) continue;
            long rh = (long)r * a.Heads + h;
            float ms = a.Partial[(rh * a.Splits + s) * a.PartialWidth + a.ValueDim];
            acc += a.P[rh * a.Capacity + j] * XMath.Exp(ms - a.Totals[rh * 2]) / a.Totals[rh * 2 + 1];
        }
        sums[i] = acc;
    }
}
