using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.Gpu.Tests.Presses;

/// <summary>
/// Wraps a kernel set: every call it answers is also computed by the scalar oracle on the same inputs (the cache and
/// statistics as the press sees them at that moment), and the largest differences are recorded per kernel. The
/// kernel's scores are what the press gets, so the plans a run makes are built from kernel scores.
/// </summary>
internal sealed class CheckedScoring(IPressScoring kernels) : IPressScoring
{
    /// <summary>Differences seen by one kernel.</summary>
    public sealed class KernelStats
    {
        public int Calls { get; set; }
        public long Values { get; set; }
        public long Unequal { get; set; }
        public double MaxAbsolute { get; set; }
        /// <summary>max over calls of max |kernel − oracle| / max |oracle| (finite entries).</summary>
        public double MaxRelative { get; set; }

        public override string ToString() =>
            $"{Calls} calls, {Values} scores, {Unequal} not bit-equal, max |diff| {MaxAbsolute:G3}, max relative {MaxRelative:G3}";
    }

    /// <summary>Stats per kernel: the press name for <see cref="TryScore"/>, "lagkv-partitions", "head-mean".</summary>
    public Dictionary<string, KernelStats> Stats { get; } = [];

    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores)
    {
        if (!kernels.TryScore(press, context, kvHead, scores)) return false;
        var oracle = new float[scores.Length];
        press.Score(context, kvHead, oracle);
        Record(press.Name, oracle, scores);
        return true;
    }

    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores)
    {
        if (!kernels.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores)) return false;
        var oracle = new float[partitions * lag];
        LagKvScoring.ScorePartitions(context.Head(kvHead), start, partitions, lag, scoreVRatio, oracle);
        Record("lagkv-partitions", oracle, scores[..oracle.Length]);
        return true;
    }

    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination)
    {
        if (!kernels.TryMeanOverHeads(statistics, firstHead, count, destination)) return false;
        var oracle = new float[destination.Length];
        AttentionScores.MeanOverHeads(statistics, firstHead, count, oracle);
        Record("head-mean", oracle, destination);
        return true;
    }

    private void Record(string kernel, float[] oracle, ReadOnlySpan<float> actual)
    {
        if (!Stats.TryGetValue(kernel, out var stats)) Stats[kernel] = stats = new KernelStats();
        stats.Calls++;
        stats.Values += oracle.Length;
        double scale = 0, worst = 0;
        for (int i = 0; i < oracle.Length; i++)
        {
            if (oracle[i].Equals(actual[i])) continue; // bit-equal (also ±∞ padding)
            stats.Unequal++;
            double d = Math.Abs((double)actual[i] - oracle[i]);
            worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
        }
        foreach (float v in oracle) if (float.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
        stats.MaxAbsolute = Math.Max(stats.MaxAbsolute, worst);
        stats.MaxRelative = Math.Max(stats.MaxRelative, worst == 0 ? 0 : scale > 0 ? worst / scale : double.PositiveInfinity);
    }
}
