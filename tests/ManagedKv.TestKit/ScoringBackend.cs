using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.TestKit;

/// <summary>
/// A backend that runs every forward-pass operation on <paramref name="inner"/> but offers the presses
/// <paramref name="scoring"/>'s score kernels: lets a test put a kernel set (e.g. GPU press kernels) under a real
/// forward pass without a whole backend around it. Does not own either.
/// </summary>
public sealed class ScoringBackend(IBackend inner, IPressScoring scoring) : DelegatingBackend(inner), IPressScoring
{
    /// <inheritdoc/>
    public override string Name => Inner.Name + "+scoring";

    /// <inheritdoc/>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores) => scoring.TryScore(press, context, kvHead, scores);

    /// <inheritdoc/>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores) =>
        scoring.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores);

    /// <inheritdoc/>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) =>
        scoring.TryMeanOverHeads(statistics, firstHead, count, destination);

    /// <inheritdoc/>
    public bool TryAveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output) => scoring.TryAveragePool(input, kernel, output);
}
