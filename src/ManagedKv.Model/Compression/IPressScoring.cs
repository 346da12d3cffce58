using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Implemented by backends that have their own (vectorised or GPU) kernels for the per-token work of some presses.
/// The scalar code in the press files stays the oracle: a kernel must produce the same plan (the CPU backend's
/// kernels give bit-identical scores), which the shared press matrix checks per backend. Every member returns false
/// when the backend has no kernel for the request; the caller then runs the scalar code.
/// </summary>
public interface IPressScoring
{
    /// <summary>Scores one head of a <see cref="ScorerPress"/> with a backend kernel (as its <see cref="ScorerPress.Score"/>).</summary>
    bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores);

    /// <summary>
    /// <see cref="AttentionScores.MeanOverHeads(AttentionStatistics, int, int, Span{float})"/> with a backend kernel
    /// (H2O's accumulation, TOVA's and SnapKV's scores read it).
    /// </summary>
    bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) => false;

    /// <summary>
    /// <see cref="AttentionScores.AveragePool(ReadOnlySpan{float}, int, Span{float})"/> with a backend kernel (SnapKV
    /// and PyramidKV smooth their scores with it).
    /// </summary>
    bool TryAveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output) => false;

    /// <summary>
    /// LagKV's partition score (<see cref="LagKvScoring.Score"/> of the <paramref name="lag"/> tokens of
    /// <paramref name="head"/> from <paramref name="start"/> against the next <paramref name="lag"/>) with a backend kernel.
    /// </summary>
    bool TryScoreLagPartition(KvHead head, int start, int lag, double scoreVRatio, Span<float> scores) => false;
}
