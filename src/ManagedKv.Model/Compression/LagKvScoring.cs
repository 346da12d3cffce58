using System.Buffers;
using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Compression;

/// <summary>
/// LagKV's lag-relative score (Liang et al., "LagKV: Lag-Relative Information of the KV Cache Tells Which Tokens
/// Are Important", arXiv:2504.04704; reference code <c>LagKV/lag_kv.py</c>, <c>_get_states_score</c>): a token of
/// one partition is scored by how spread its channels are once normalised by the per-channel range of the
/// <em>next</em> partition. Written once here, shared by both LagKV variants (<see cref="Presses.LagKvPress"/>).
/// </summary>
public static class LagKvScoring
{
    /// <summary>
    /// Scores one partition of K or V rows against its reference partition: per channel c, min_c and max_c over
    /// the reference's tokens; every token normalised as x'_c = (x_c − min_c)/(max_c − min_c); the token's
    /// unbiased (N−1) standard deviation over channels; a softmax of those over the partition's tokens.
    /// Stated deviation: a channel whose reference range is zero normalises to 0 (the reference code divides by
    /// zero and poisons the whole partition with NaN). With a single channel the unbiased deviation is undefined
    /// (NaN in torch); it is taken as 0 here, so every token scores alike.
    /// </summary>
    /// <param name="partition">[tokens, width] rows of the scored partition.</param>
    /// <param name="reference">[refTokens, width] rows of the next partition (refTokens ≥ 1).</param>
    /// <param name="width">Channels per row.</param>
    /// <param name="scores">[tokens] the softmax (sums to 1).</param>
    /// <exception cref="ArgumentException">The spans do not match <paramref name="width"/> and the token count.</exception>
    public static void StatesScore(ReadOnlySpan<float> partition, ReadOnlySpan<float> reference, int width, Span<double> scores)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int tokens = scores.Length;
        if (partition.Length != tokens * width)
            throw new ArgumentException($"partition holds {partition.Length} floats; {tokens} tokens × {width} channels expected", nameof(partition));
        if (reference.IsEmpty || reference.Length % width != 0)
            throw new ArgumentException($"reference holds {reference.Length} floats; a positive multiple of {width} expected", nameof(reference));
        if (tokens == 0) return;

        double[] rented = ArrayPool<double>.Shared.Rent(2 * width);
        try
        {
            var min = rented.AsSpan(0, width);   // [width]
            var scale = rented.AsSpan(width, width); // [width] 1/(max − min), or 0 for a zero range
            ChannelRange(reference, width, min, scale);
            for (int t = 0; t < tokens; t++)
            {
                var row = partition.Slice(t * width, width);
                double mean = 0;
                for (int c = 0; c < width; c++) mean += (row[c] - min[c]) * scale[c];
                mean /= width;
                double squares = 0;
                for (int c = 0; c < width; c++)
                {
                    double d = (row[c] - min[c]) * scale[c] - mean;
                    squares += d * d;
                }
                scores[t] = width > 1 ? Math.Sqrt(squares / (width - 1)) : 0;
            }
            Softmax(scores);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The per-channel normalisation of <see cref="StatesScore"/>: min_c over the reference's tokens and
    /// 1/(max_c − min_c), or 0 where the range is zero. Summation-free, so any kernel computes the same bits.
    /// </summary>
    /// <param name="reference">[refTokens, width] rows.</param>
    /// <param name="width">Channels per row.</param>
    /// <param name="min">[width] receives min_c.</param>
    /// <param name="scale">[width] receives 1/(max_c − min_c), or 0.</param>
    public static void ChannelRange(ReadOnlySpan<float> reference, int width, Span<double> min, Span<double> scale)
    {
        min = min[..width];
        scale = scale[..width];
        min.Fill(double.PositiveInfinity);
        scale.Fill(double.NegativeInfinity); // holds max until converted below
        for (int r = 0; r < reference.Length; r += width)
            for (int c = 0; c < width; c++)
            {
                double x = reference[r + c];
                if (x < min[c]) min[c] = x;
                if (x > scale[c]) scale[c] = x;
            }
        for (int c = 0; c < width; c++)
        {
            double range = scale[c] - min[c];
            scale[c] = range > 0 ? 1.0 / range : 0; // zero range: every normalised value becomes 0
        }
    }

    /// <summary>
    /// The softmax of <see cref="StatesScore"/>, in place: exp(s − max), summed in token order, each divided by the
    /// sum (shifted by the maximum for range safety).
    /// </summary>
    /// <param name="scores">[tokens] the deviations in, the probabilities out.</param>
    public static void Softmax(Span<double> scores)
    {
        double top = double.NegativeInfinity;
        foreach (double s in scores) if (s > top) top = s;
        double sum = 0;
        for (int t = 0; t < scores.Length; t++) sum += scores[t] = Math.Exp(scores[t] - top);
        for (int t = 0; t < scores.Length; t++) scores[t] /= sum;
    }

    /// <summary>
    /// LagKV's token score for one partition: s_K + <paramref name="scoreVRatio"/>·s_V, each
    /// <see cref="StatesScore"/> against the next partition's keys or values. Higher = keep.
    /// </summary>
    /// <param name="keys">[tokens, keyWidth] the partition's keys.</param>
    /// <param name="keyReference">[refTokens, keyWidth] the next partition's keys.</param>
    /// <param name="keyWidth">Key channels.</param>
    /// <param name="values">[tokens, valueWidth] the partition's values.</param>
    /// <param name="valueReference">[refTokens, valueWidth] the next partition's values.</param>
    /// <param name="valueWidth">Value channels.</param>
    /// <param name="scoreVRatio">Weight of the value score.</param>
    /// <param name="scores">[tokens] the combined score.</param>
    public static void Score(ReadOnlySpan<float> keys, ReadOnlySpan<float> keyReference, int keyWidth,
        ReadOnlySpan<float> values, ReadOnlySpan<float> valueReference, int valueWidth, double scoreVRatio, Span<float> scores)
    {
        int tokens = scores.Length;
        double[] rented = ArrayPool<double>.Shared.Rent(2 * Math.Max(tokens, 1));
        try
        {
            var keyScore = rented.AsSpan(0, tokens);        // [tokens]
            var valueScore = rented.AsSpan(tokens, tokens); // [tokens]
            StatesScore(keys, keyReference, keyWidth, keyScore);
            StatesScore(values, valueReference, valueWidth, valueScore);
            for (int t = 0; t < tokens; t++) scores[t] = (float)(keyScore[t] + scoreVRatio * valueScore[t]);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Scores <paramref name="partitions"/> consecutive partitions of <paramref name="lag"/> tokens of
    /// <paramref name="head"/> from token index <paramref name="start"/>, each against the <paramref name="lag"/>
    /// tokens after it (which must be held): the scalar oracle of LagKV's per-token work.
    /// </summary>
    /// <param name="head">The KV head.</param>
    /// <param name="start">Index of the first scored token.</param>
    /// <param name="partitions">Partitions scored.</param>
    /// <param name="lag">Partition size.</param>
    /// <param name="scoreVRatio">Weight of the value score.</param>
    /// <param name="scores">[partitions·lag] the scores (<see cref="Score"/>), partition after partition.</param>
    /// <exception cref="ArgumentException">The head does not hold the tokens, or <paramref name="scores"/> is too short.</exception>
    public static void ScorePartitions(KvHead head, int start, int partitions, int lag, double scoreVRatio, Span<float> scores)
    {
        CheckPartitions(head, start, partitions, lag, scores.Length);
        for (int p = 0; p < partitions; p++)
            ScorePartition(head, start + p * lag, lag, scoreVRatio, scores.Slice(p * lag, lag));
    }

    /// <summary>
    /// <see cref="ScorePartitions(KvHead, int, int, int, double, Span{float})"/> through the backend's kernel when it
    /// has one (<see cref="IPressScoring.TryScoreLagPartitions"/>), else the scalar oracle.
    /// </summary>
    /// <param name="context">The layer's context (its backend may have a kernel).</param>
    /// <param name="kvHead">The KV head.</param>
    /// <param name="start">Index of the first scored token.</param>
    /// <param name="partitions">Partitions scored.</param>
    /// <param name="lag">Partition size.</param>
    /// <param name="scoreVRatio">Weight of the value score.</param>
    /// <param name="scores">[partitions·lag] the scores.</param>
    public static void ScorePartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores)
    {
        var head = context.Head(kvHead);
        CheckPartitions(head, start, partitions, lag, scores.Length);
        if (context.Backend is not IPressScoring fast || !fast.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores[..(partitions * lag)]))
            ScorePartitions(head, start, partitions, lag, scoreVRatio, scores);
    }

    private static void CheckPartitions(KvHead head, int start, int partitions, int lag, int scoreCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lag, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(partitions);
        if (start < 0 || (long)start + (long)(partitions + 1) * lag > head.Count)
            throw new ArgumentException($"scoring {partitions} partitions of {lag} tokens from index {start} reads {(partitions + 1) * lag} tokens; the head holds {head.Count}");
        if (scoreCount < partitions * lag)
            throw new ArgumentException($"{partitions} partitions of {lag} tokens need {partitions * lag} scores; the span holds {scoreCount}");
    }

    /// <summary>
    /// Scores the <paramref name="lag"/> tokens of <paramref name="head"/> starting at index <paramref name="start"/>
    /// against the following <paramref name="lag"/> tokens (which must be held).
    /// </summary>
    private static void ScorePartition(KvHead head, int start, int lag, double scoreVRatio, Span<float> scores)
    {
        int keyWidth = head.Keys.Width, valueWidth = head.Values.Width;
        float[] keys = ArrayPool<float>.Shared.Rent(2 * lag * keyWidth);     // [2·lag, keyWidth]: partition, then reference
        float[] values = ArrayPool<float>.Shared.Rent(2 * lag * valueWidth); // [2·lag, valueWidth]
        try
        {
            ReadRows(head.Keys, start, 2 * lag, keys);
            ReadRows(head.Values, start, 2 * lag, values);
            int k = lag * keyWidth, v = lag * valueWidth;
            Score(keys.AsSpan(0, k), keys.AsSpan(k, k), keyWidth, values.AsSpan(0, v), values.AsSpan(v, v), valueWidth, scoreVRatio,
                scores[..lag]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>
    /// Replaces each partition score by its rank within the partition divided by the partition size (kvpress's
    /// <c>argsort(argsort)/lag_size</c>): 0 for the lowest score, (n−1)/n for the highest. Ties rank the lower
    /// position higher, so a later top-k over ranks keeps it first.
    /// </summary>
    internal static void RankNormalise(Span<float> scores)
    {
        int n = scores.Length;
        float[] copy = scores.ToArray();
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            int c = copy[a].CompareTo(copy[b]);
            return c != 0 ? c : b.CompareTo(a);
        });
        for (int rank = 0; rank < n; rank++) scores[order[rank]] = rank / (float)n;
    }

    private static void ReadRows(KvRows rows, int start, int count, Span<float> destination)
    {
        int width = rows.Width;
        for (int i = 0; i < count; i++) rows.Read(start + i, destination.Slice(i * width, width));
    }
}
