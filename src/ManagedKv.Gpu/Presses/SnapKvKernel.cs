using ILGPU;

namespace ManagedKv.Gpu.Presses;

/// <summary>
/// SnapKV's and PyramidKV's smoothing on the device (<see cref="Model.Compression.Presses.SnapKvPress"/>): the
/// 1-D average pooling with zero padding of kernel/2 and every window divided by the kernel
/// (<see cref="Model.Compression.AttentionScores.AveragePool(ReadOnlySpan{float}, int, Span{float})"/>), applied to the per-query mean that
/// <see cref="AttentionMeanKernel"/> writes. One thread per output sums its window in f64 in index order.
/// </summary>
internal static class SnapKvKernel
{
    /// <summary>output[i] = (float)(Σ_{|d| ≤ kernel/2, 0 ≤ i+d &lt; n} input[i + d] / kernel).</summary>
    /// <param name="index">The output index i (implicitly grouped).</param>
    /// <param name="input">[n] the values pooled.</param>
    /// <param name="length">n.</param>
    /// <param name="kernel">Window length (odd).</param>
    /// <param name="output">[n] the pooled values.</param>
    public static void Pool(Index1D index, ArrayView<float> input, int length, int kernel, ArrayView<float> output)
    {
        int half = kernel / 2;
        int first = index - half < 0 ? 0 : index - half;
        int last = index + half > length - 1 ? length - 1 : index + half;
        double sum = 0;
        for (int j = first; j <= last; j++) sum += input[j];
        output[index] = (float)(sum / kernel);
    }
}
