using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Implemented by backends that have their own (vectorised or GPU) kernels for the per-token work of some presses.
/// The scalar code in the press files stays the oracle: a kernel must produce the same plan (the CPU backend's
/// kernels give bit-identical scores), which the shared press matrix checks per backend. Presses that are not
/// <see cref="ScorerPress"/>es reach kernels through the narrower hooks below. Every member returns false when the
/// backend has no kernel for the request; the caller then runs the scalar code.
/// </summary>
public interface IPressScoring
{
    /// <summary>Scores one head of a <see cref="ScorerPress"/> with a backend kernel (as its <see cref="ScorerPress.Score"/>).</summary>
    bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores);

    /// <summary>
    /// LagKV's partition scores (<see cref="LagKvScoring.ScorePartitions(Cache.KvHead, int, int, int, double, Span{float})"/>,
    /// the oracle) for KV head <paramref name="kvHead"/>: <paramref name="partitions"/> partitions of
    /// <paramref name="lag"/> tokens from token index <paramref name="start"/>, each scored against the one after
    /// it (so <c>(partitions + 1)·lag</c> tokens are read); false when the backend has no kernel.
    /// </summary>
    /// <param name="context">The layer's context.</param>
    /// <param name="kvHead">The KV head.</param>
    /// <param name="start">Index of the first scored token.</param>
    /// <param name="partitions">Partitions scored (≥ 1).</param>
    /// <param name="lag">Partition size.</param>
    /// <param name="scoreVRatio">Weight of the value score.</param>
    /// <param name="scores">[partitions·lag] the scores, partition after partition.</param>
    bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores) => false;

    /// <summary>
    /// The mean of attention statistics over query heads (<see cref="AttentionScores.MeanOverHeads(AttentionStatistics, int, int, Span{float})"/>,
    /// the oracle; H2O's accumulation, TOVA's and SnapKV's scores read it) computed by a backend kernel.
    /// </summary>
    /// <param name="statistics">The kernel's sums.</param>
    /// <param name="firstHead">First query head averaged.</param>
    /// <param name="count">Query heads averaged.</param>
    /// <param name="destination">[tokens] the mean.</param>
    bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) => false;

    /// <summary>
    /// <see cref="AttentionScores.AveragePool(ReadOnlySpan{float}, int, Span{float})"/> with a backend kernel (SnapKV
    /// and PyramidKV smooth their scores with it).
    /// </summary>
    bool TryAveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output) => false;
}
