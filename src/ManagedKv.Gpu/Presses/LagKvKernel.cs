using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace ManagedKv.Gpu.Presses;

/// <summary>
/// LagKV's partition score on the device (<see cref="Model.Compression.LagKvScoring.Score"/>), for every scored
/// partition of one KV head at once. The rows hold P + 1 partitions of <c>lag</c> tokens; partition p is scored
/// against partition p + 1. Three launches per K/V pair:
/// <list type="number">
/// <item><see cref="Range"/>: per (partition, channel), the reference partition's min and 1/(max − min) (0 for a
/// zero range), one thread each;</item>
/// <item><see cref="Deviation"/>: per token, the unbiased standard deviation of its normalised channels (0 for a
/// single channel), one thread each, channels in order as the oracle;</item>
/// <item><see cref="Combine"/>: per partition, one group: softmax of the keys' and the values' deviations over the
/// partition's tokens, then s_K + ratio·s_V. The maxima and sums are group reductions, so their order differs
/// from the oracle's sequential loop (f64 sums; the f32 results differ by at most an ulp or two).</item>
/// </list>
/// </summary>
internal static class LagKvKernel
{
    /// <summary>min[p, c] and scale[p, c] = 1/(max − min) (or 0) over partition p + 1's tokens, channel c.</summary>
    /// <param name="index">p·width + c (implicitly grouped).</param>
    /// <param name="rows">[(P + 1)·lag, width] the rows.</param>
    /// <param name="width">Channels per row.</param>
    /// <param name="lag">Tokens per partition.</param>
    /// <param name="min">[P, width] the reference minima.</param>
    /// <param name="scale">[P, width] the reference scales.</param>
    public static void Range(Index1D index, ArrayView<float> rows, int width, int lag, ArrayView<double> min, ArrayView<double> scale)
    {
        int p = index / width, c = index - p * width;
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (int t = (p + 1) * lag; t < (p + 2) * lag; t++)
        {
            double x = rows[(long)t * width + c];
            if (x < lo) lo = x;
            if (x > hi) hi = x;
        }
        double range = hi - lo;
        min[index] = lo;
        scale[index] = range > 0 ? 1.0 / range : 0;
    }

    /// <summary>deviation[t] = unbiased std over c of (rows[t, c] − min[p, c])·scale[p, c], p = t / lag.</summary>
    /// <param name="token">The token t of the scored partitions (implicitly grouped).</param>
    /// <param name="rows">[(P + 1)·lag, width] the rows.</param>
    /// <param name="width">Channels per row.</param>
    /// <param name="lag">Tokens per partition.</param>
    /// <param name="min">[P, width] from <see cref="Range"/>.</param>
    /// <param name="scale">[P, width] from <see cref="Range"/>.</param>
    /// <param name="deviation">[P·lag] the deviations.</param>
    public static void Deviation(Index1D token, ArrayView<float> rows, int width, int lag, ArrayView<double> min, ArrayView<double> scale,
        ArrayView<double> deviation)
    {
        long row = (long)token.X * width;
        long reference = (long)(token.X / lag) * width;
        double mean = 0;
        for (int c = 0; c < width; c++) mean += (rows[row + c] - min[reference + c]) * scale[reference + c];
        mean /= width;
        double squares = 0;
        for (int c = 0; c < width; c++)
        {
            double d = (rows[row + c] - min[reference + c]) * scale[reference + c] - mean;
            squares += d * d;
        }
        deviation[token] = width > 1 ? XMath.Sqrt(squares / (width - 1)) : 0;
    }

    /// <summary>
    /// scores[t] = softmax_p(keyDeviation)[t] + ratio·softmax_p(valueDeviation)[t] over the tokens of partition
    /// p = the group's index (explicitly grouped: any group size, a multiple of the warp size).
    /// </summary>
    /// <param name="keyDeviation">[P·lag] the keys' deviations.</param>
    /// <param name="valueDeviation">[P·lag] the values' deviations.</param>
    /// <param name="lag">Tokens per partition.</param>
    /// <param name="ratio">Weight of the value score.</param>
    /// <param name="scores">[P·lag] the scores.</param>
    public static void Combine(ArrayView<double> keyDeviation, ArrayView<double> valueDeviation, int lag, double ratio, ArrayView<float> scores)
    {
        long first = (long)Grid.IdxX * lag;
        double keyTop = double.NegativeInfinity, valueTop = double.NegativeInfinity;
        for (int t = Group.IdxX; t < lag; t += Group.DimX)
        {
            keyTop = XMath.Max(keyTop, keyDeviation[first + t]);
            valueTop = XMath.Max(valueTop, valueDeviation[first + t]);
        }
        keyTop = GroupExtensions.AllReduce<double, MaxDouble>(keyTop);
        valueTop = GroupExtensions.AllReduce<double, MaxDouble>(valueTop);

        double keySum = 0, valueSum = 0;
        for (int t = Group.IdxX; t < lag; t += Group.DimX)
        {
            keySum += XMath.Exp(keyDeviation[first + t] - keyTop);
            valueSum += XMath.Exp(valueDeviation[first + t] - valueTop);
        }
        keySum = GroupExtensions.AllReduce<double, AddDouble>(keySum);
        valueSum = GroupExtensions.AllReduce<double, AddDouble>(valueSum);

        for (int t = Group.IdxX; t < lag; t += Group.DimX)
        {
            double key = XMath.Exp(keyDeviation[first + t] - keyTop) / keySum;
            double value = XMath.Exp(valueDeviation[first + t] - valueTop) / valueSum;
            scores[first + t] = (float)(key + ratio * value);
        }
    }
}
