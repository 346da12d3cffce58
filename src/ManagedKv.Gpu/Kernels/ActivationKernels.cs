using ILGPU;
using ILGPU.Algorithms;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Converts activation rows to the dot-product type of a weight type, as ggml-cpu does on x86 before a matrix
/// product, and stores the result as the f32 values that type represents (d·q is exact in f32), so the matrix
/// kernel is one f32 loop for every format. One warp per block (32 or 256 values) for Q8/Q8_K, one thread per
/// element for the f16/bf16 rounding.
/// </summary>
internal static class ActivationKernels
{
    /// <summary>
    /// x86 quantize_row_q8_0 / q8_1, one warp per block of 32 (block w = row w / blocks; on CUDA lane j quantises value j):
    /// d = amax/127 stored as f16, codes RNE(x·127/amax) saturated to int8; xs = f16(d·Σ unsaturated codes) (used by
    /// Q4_1/Q5_1). The maximum and the integer sum are exact whatever the reduction order, so the codes are the host's.
    /// Grid: <see cref="KernelSet.WarpGrid"/>(rows · blocks).
    /// </summary>
    public static void Q8(ArrayView<float> x, long xStride, int blocks, int totalBlocks, ArrayView<float> xq, ArrayView<float> xs)
    {
        int w = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (w >= totalBlocks) return; // uniform across the warp
        int r = w / blocks, b = w % blocks;
        long src = r * xStride + 32L * b, dst = 32L * w;
        float amax = 0;
        for (int j = Warp.LaneIdx; j < 32; j += Warp.WarpSize) amax = XMath.Max(amax, XMathAbs(x[src + j]));
        amax = WarpOps.Max(amax);
        float d = amax / 127f;
        float id = amax != 0 ? 127f / amax : 0f;
        float dh = Bits.RoundToHalf(d);
        int sum = 0;
        for (int j = Warp.LaneIdx; j < 32; j += Warp.WarpSize)
        {
            int q = Bits.NearestInt(Bits.MulRounded(x[src + j], id));
            sum += q;
            q = q > 127 ? 127 : q < -128 ? -128 : q;
            xq[dst + j] = dh * q;
        }
        sum = WarpOps.Sum(sum);
        if (Warp.LaneIdx == 0) xs[w] = Bits.RoundToHalf(d * sum);
    }

    /// <summary>
    /// quantize_row_q8_K_ref, one warp per block of 256 values (lane j holds values j, j + warp size, …): with max the first
    /// value of largest magnitude, iscale = −127/max, q = min(127, RNE(iscale·x)), d = 1/iscale (f32). The warp finds
    /// the largest magnitude and then the lowest index holding it, so "first" means what the sequential scan means.
    /// Grid: <see cref="KernelSet.WarpGrid"/>(rows · blocks).
    /// </summary>
    public static void Q8K(ArrayView<float> x, long xStride, int blocks, int totalBlocks, ArrayView<float> xq)
    {
        int w = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (w >= totalBlocks) return; // uniform across the warp
        int r = w / blocks, b = w % blocks, lane = Warp.LaneIdx;
        long src = r * xStride + 256L * b, dst = 256L * w;
        float amax = 0;
        for (int j = lane; j < 256; j += Warp.WarpSize) amax = XMath.Max(amax, XMathAbs(x[src + j]));
        amax = WarpOps.Max(amax);
        if (amax == 0)
        {
            for (int j = lane; j < 256; j += Warp.WarpSize) xq[dst + j] = 0;
            return;
        }
        int first = 256;
        for (int j = lane; j < 256; j += Warp.WarpSize)
            if (XMathAbs(x[src + j]) == amax && j < first) first = j;
        first = WarpOps.Min(first);
        float iscale = -127f / x[src + first];
        float d = 1 / iscale;
        for (int j = lane; j < 256; j += Warp.WarpSize)
        {
            int q = Bits.NearestInt(Bits.MulRounded(iscale, x[src + j]));
            xq[dst + j] = d * (q < 127 ? q : 127);
        }
    }

    /// <summary>Element i of a [rows, cols] block rounded to f16 (<paramref name="bfloat"/> false) or bf16.</summary>
    public static void Round(Index1D i, ArrayView<float> x, long xStride, int cols, ArrayView<float> xq, int bfloat)
    {
        int r = i / cols, c = i % cols;
        float v = x[r * xStride + c];
        xq[i] = bfloat != 0 ? Bits.RoundToBFloat(v) : Bits.RoundToHalf(v);
    }

    private static float XMathAbs(float v) => v < 0 ? -v : v;
}
