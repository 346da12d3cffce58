using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>
/// The arithmetic the attention-scored presses (H2O, SnapKV, PyramidKV, TOVA) share, written once: averaging the
/// kernel's per-query-head sums over heads, kvpress/SnapKV's 1-D average pooling, and the head-alignment test.
/// </summary>
public static class AttentionScores
{
    /// <summary>
    /// destination[j] = mean over query heads [firstHead, firstHead + count) of their sums at token j (summed in
    /// double, in head order). The heads must read one KV head, or KV heads holding the same tokens.
    /// </summary>
    /// <param name="statistics">The kernel's sums.</param>
    /// <param name="firstHead">First query head averaged.</param>
    /// <param name="count">Query heads averaged (a GQA group, or all heads of the layer).</param>
    /// <param name="destination">[tokens] the mean; tokens ≤ every averaged head's length.</param>
    public static void MeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) =>
        MeanOverHeads(statistics, firstHead, count, destination, 0);

    /// <summary>
    /// As <see cref="MeanOverHeads(AttentionStatistics, int, int, Span{float})"/> for the tokens from
    /// <paramref name="firstToken"/> on: destination[j] is token firstToken + j (a kernel's scalar tail).
    /// </summary>
    public static void MeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination, int firstToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(firstToken);
        for (int j = 0; j < destination.Length; j++)
        {
            double sum = 0;
            for (int h = firstHead; h < firstHead + count; h++) sum += statistics.Sums(h)[firstToken + j];
            destination[j] = (float)(sum / count);
        }
    }

    /// <summary>
    /// As <see cref="MeanOverHeads(AttentionStatistics, int, int, Span{float})"/>, through the backend's kernel when
    /// <paramref name="context"/>'s backend has one (<see cref="IPressScoring.TryMeanOverHeads"/>).
    /// </summary>
    public static void MeanOverHeads(PressContext context, AttentionStatistics statistics, int firstHead, int count, Span<float> destination)
    {
        if (context.Backend is IPressScoring fast && fast.TryMeanOverHeads(statistics, firstHead, count, destination)) return;
        MeanOverHeads(statistics, firstHead, count, destination);
    }

    /// <summary>
    /// 1-D average pooling with stride 1 and zero padding of <c>kernel / 2</c> on both sides, every window divided by
    /// <paramref name="kernel"/> (torch's <c>avg_pool1d(x, kernel, padding=kernel//2, stride=1)</c> with
    /// <c>count_include_pad=True</c>, as SnapKV and kvpress smooth their scores): output[i] = Σ_{|d| ≤ kernel/2}
    /// input[i + d] / kernel, out-of-range inputs reading as 0. The output has the input's length.
    /// </summary>
    /// <param name="input">[n] values.</param>
    /// <param name="kernel">Window length, odd and ≥ 1 (an even kernel would change the length).</param>
    /// <param name="output">[n] the pooled values (must not overlap <paramref name="input"/>).</param>
    public static void AveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "the pooling kernel must be odd and ≥ 1");
        if (output.Length != input.Length) throw new ArgumentException($"output holds {output.Length} values; the input {input.Length}", nameof(output));
        for (int i = 0; i < input.Length; i++) output[i] = PoolAt(input, kernel, i);
    }

    /// <summary>
    /// As <see cref="AveragePool(ReadOnlySpan{float}, int, Span{float})"/>, through the backend's kernel when
    /// <paramref name="context"/>'s backend has one (<see cref="IPressScoring.TryAveragePool"/>).
    /// </summary>
    public static void AveragePool(PressContext context, ReadOnlySpan<float> input, int kernel, Span<float> output)
    {
        if (context.Backend is IPressScoring fast && fast.TryAveragePool(input, kernel, output)) return;
        AveragePool(input, kernel, output);
    }

    /// <summary>
    /// One output of <see cref="AveragePool(ReadOnlySpan{float}, int, Span{float})"/>: the in-range inputs of the
    /// window around <paramref name="i"/> summed in double in index order, divided by <paramref name="kernel"/>.
    /// </summary>
    public static float PoolAt(ReadOnlySpan<float> input, int kernel, int i)
    {
        int half = kernel / 2;
        double sum = 0;
        for (int j = Math.Max(0, i - half); j <= Math.Min(input.Length - 1, i + half); j++) sum += input[j];
        return (float)(sum / kernel);
    }

    /// <summary>Tokens of <paramref name="positions"/> (ascending) before <paramref name="position"/>.</summary>
    public static int CountBefore(ReadOnlySpan<int> positions, int position)
    {
        int count = 0;
        while (count < positions.Length && positions[count] < position) count++;
        return count;
    }

    /// <summary>Query heads per KV head (the GQA group) of statistics read against <paramref name="context"/>'s cache.</summary>
    public static int GroupSize(AttentionStatistics statistics, PressContext context) =>
        statistics.QueryHeadCount / context.Cache.KvHeadCount;

    /// <summary>Whether every KV head of the layer holds the same token positions (so one score can serve them all).</summary>
    public static bool HeadsAligned(PressContext context)
    {
        var first = context.Head(0).Positions;
        for (int h = 1; h < context.Cache.KvHeadCount; h++)
            if (!context.Head(h).Positions.SequenceEqual(first)) return false;
        return true;
    }
}
