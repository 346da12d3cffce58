using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu.Presses;

/// <summary>
/// The CPU backend's press kernels (<see cref="IPressScoring"/>), one file per kernel in this folder:
/// <list type="bullet">
/// <item><see cref="KnormKernel"/>: KNorm's key norms (the whole score, through <see cref="TryScore"/>);</item>
/// <item><see cref="AttentionMeanKernel"/>: the head-mean reduction of attention statistics that H2O accumulates and
/// TOVA, SnapKV and PyramidKV score with;</item>
/// <item><see cref="AveragePoolKernel"/>: SnapKV/PyramidKV's 1-D average pooling;</item>
/// <item><see cref="LagKvKernel"/>: LagKV's partition min/max, standard deviation and softmax (both variants).</item>
/// </list>
/// The presses' scalar code stays the definition of each method and calls these through the backend; every kernel
/// performs the oracle's floating-point operations in the oracle's order per output, so scores are bit-identical and
/// plans equal (the CPU press matrix asserts both). Random and StreamingLLM have no per-token work worth a kernel;
/// MiniCache's merge and KIVI's quantisation are cache operations (the cache's storage classes), not scores.
/// Buffers grow once and are reused: a warm call allocates nothing. Calls run on the caller's thread.
/// </summary>
internal sealed class PressKernels : IPressScoring
{
    private readonly LagKvKernel _lagKv = new();
    private float[] _keys = []; // [tokens, keyDim] KNorm's decoded keys (non-f32 storage)

    /// <inheritdoc/>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores)
    {
        switch (press)
        {
            case KnormPress:
                KnormKernel.Score(context.Head(kvHead).Keys, scores, ref _keys);
                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc/>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination)
    {
        AttentionMeanKernel.MeanOverHeads(statistics, firstHead, count, destination);
        return true;
    }

    /// <inheritdoc/>
    public bool TryAveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output)
    {
        AveragePoolKernel.AveragePool(input, kernel, output);
        return true;
    }

    /// <inheritdoc/>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores)
    {
        var head = context.Head(kvHead);
        for (int p = 0; p < partitions; p++)
            _lagKv.ScorePartition(head, start + p * lag, lag, scoreVRatio, scores.Slice(p * lag, lag));
        return true;
    }
}
