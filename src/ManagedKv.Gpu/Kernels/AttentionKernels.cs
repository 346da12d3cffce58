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
    /// <summary>One warp per (row, head, split): scores lane-per-token, then outputs lane-per-dimension.</summary>
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

        float m = float.NegativeInfinity;
        for (int j = start + Warp.LaneIdx; j < end; j += Warp.WarpSize)
        {
            long k = (headRow + j) * a.KeyDim;
            float dot = 0;
            for (int d = 0; d < a.KeyDim; d++) dot += a.Q[q + d] * keys.Load(k + d);
            float score = dot * a.Scale;
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
        for (int d = Warp.LaneIdx; d < a.ValueDim; d += Warp.WarpSize)
        {
            float acc = 0;
            for (int j = start; j < end; j++) acc += a.P[p + j] * values.Load((headRow + j) * a.ValueDim + d);
            a.Partial[o + d] = acc;
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
