using ILGPU;

namespace ManagedKv.Gpu.Presses;

/// <summary>
/// The reduction H2O and TOVA (and SnapKV/PyramidKV's first step) apply to attention statistics, on the device:
/// per token, the mean of the per-query-head sums over a run of query heads
/// (<see cref="Model.Compression.AttentionScores.MeanOverHeads(Model.Inference.AttentionStatistics, int, int, System.Span{float})"/>).
/// One thread per token sums the heads in head order in f64, as the oracle does.
/// </summary>
internal static class AttentionMeanKernel
{
    /// <summary>destination[j] = (float)(Σ_{h &lt; heads} sums[h, j] / heads) / divisor.</summary>
    /// <param name="token">The token j (implicitly grouped).</param>
    /// <param name="sums">[heads, stride] the averaged heads' sums, head after head.</param>
    /// <param name="stride">Floats per head in <paramref name="sums"/> (≥ the token count).</param>
    /// <param name="heads">Heads averaged (≥ 1).</param>
    /// <param name="divisor">A final f32 divisor: 1 for the plain mean, the query count for SnapKV's per-query mean.</param>
    /// <param name="destination">[tokens] the result.</param>
    public static void Kernel(Index1D token, ArrayView<float> sums, int stride, int heads, float divisor, ArrayView<float> destination)
    {
        double sum = 0;
        for (int h = 0; h < heads; h++) sum += sums[(long)h * stride + token];
        destination[token] = (float)(sum / heads) / divisor;
    }
}
