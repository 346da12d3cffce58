using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Implemented by backends that have their own (vectorised or GPU) score kernels for some presses. The press
/// file's scalar <see cref="ScorerPress.Score"/> stays the oracle: a kernel must produce the same plan, which
/// the shared press matrix checks per backend. Presses that are not <see cref="ScorerPress"/>es reach kernels for
/// their per-token work through the narrower hooks below (each defaults to "no kernel").
/// </summary>
public interface IPressScoring
{
    /// <summary>Scores one head with a backend kernel; false when the backend has none for this press.</summary>
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
    /// the oracle) computed by a backend kernel; false when the backend has none.
    /// </summary>
    /// <param name="statistics">The kernel's sums.</param>
    /// <param name="firstHead">First query head averaged.</param>
    /// <param name="count">Query heads averaged.</param>
    /// <param name="destination">[tokens] the mean.</param>
    bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) => false;
}
