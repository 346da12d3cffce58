using System.Runtime.Intrinsics;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu.Presses;

/// <summary>
/// The head-mean reduction of attention statistics (H2O's per-call accumulation, TOVA's and SnapKV/PyramidKV's
/// scores), vectorised over tokens: eight tokens per step, each lane summing its token's probabilities in double
/// over the heads in head order, exactly as the scalar <see cref="AttentionScores.MeanOverHeads(AttentionStatistics, int, int, Span{float})"/>
/// does per token, then one IEEE division and one rounding to float. Same operations in the same order per
/// token, so the result is bit-identical to the oracle's.
/// </summary>
internal static class AttentionMeanKernel
{
    /// <summary>destination[j] = mean over query heads [firstHead, firstHead + count) of their sums at token j.</summary>
    public static void MeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int n = destination.Length;
        for (int h = firstHead; h < firstHead + count; h++)
            if (statistics.Sums(h).Length < n)
                throw new ArgumentException($"query head {h} covers {statistics.Sums(h).Length} tokens; {n} requested", nameof(destination));
        var divisor = Vector256.Create((double)count);
        int j = 0;
        for (; j + Vector256<float>.Count <= n; j += Vector256<float>.Count)
        {
            Vector256<double> lower = Vector256<double>.Zero, upper = Vector256<double>.Zero;
            for (int h = firstHead; h < firstHead + count; h++)
            {
                var x = Vector256.Create(statistics.Sums(h).Slice(j, Vector256<float>.Count));
                lower += Vector256.WidenLower(x);
                upper += Vector256.WidenUpper(x);
            }
            Vector256.Narrow(lower / divisor, upper / divisor).CopyTo(destination[j..]);
        }
        if (j < n) AttentionScores.MeanOverHeads(statistics, firstHead, count, destination[j..], j);
    }
}
