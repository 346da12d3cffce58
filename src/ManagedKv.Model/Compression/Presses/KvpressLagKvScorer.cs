namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// The kvpress form of LagKV (<see cref="LagKvVariant.Kvpress"/>) as a plain <see cref="ScorerPress"/>: it only
/// writes scores; the base class's global top-k per KV head does the rest. <see cref="LagKvPress"/> delegates to it.
/// </summary>
internal sealed class KvpressLagKvScorer : ScorerPress
{
    /// <inheritdoc/>
    public override string Name => "lagkv";

    /// <summary>Leading tokens scored 1.</summary>
    public required int Sink { get; init; }

    /// <summary>Partition size.</summary>
    public required int Lag { get; init; }

    /// <summary>Keep the raw (s_K + s_V)/2 instead of per-partition ranks (kvpress's experimental cross_scoring).</summary>
    public required bool CrossScoring { get; init; }

    /// <summary>Leading layers left uncompressed.</summary>
    public required int SkipLayers { get; init; }

    /// <inheritdoc/>
    protected override bool CompressesLayer(int layer) => layer >= SkipLayers;

    /// <inheritdoc/>
    public override void Score(PressContext context, int kvHead, Span<float> scores)
    {
        int n = scores.Length;
        if (n < Sink + 2 * Lag)
        {
            // kvpress: no partition to score; sink 1, the rest rising with position, so the top-k is sink + recent.
            for (int i = 0; i < n; i++) scores[i] = i < Sink ? 1f : (float)((i - Sink) / (double)(n - Sink));
            return;
        }
        int end = Sink + (n - Sink) / Lag * Lag;
        int tail = Lag + n - end;
        scores[..Sink].Fill(1f);
        scores[(n - tail)..].Fill(1f);
        var head = context.Head(kvHead);
        for (int start = Sink; start < end - Lag; start += Lag) // every full partition but the last, which is the final reference
        {
            var partition = scores.Slice(start, Lag);
            LagKvScoring.ScorePartition(context, head, start, Lag, 1.0, partition);
            for (int i = 0; i < Lag; i++) partition[i] *= 0.5f; // (s_K + s_V)/2, in [0, 1]
            if (!CrossScoring) LagKvScoring.RankNormalise(partition);
        }
    }
}
