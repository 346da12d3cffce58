using System.Runtime.Intrinsics;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;

namespace ManagedKv.Cpu.Presses;

/// <summary>
/// LagKV's partition score (both variants): per-channel min/max of the next partition
/// (<see cref="LagKvScoring.ChannelRange"/>, comparisons only), then the O(tokens·channels) part vectorised over
/// tokens: four tokens per step, each lane normalising its channels in double, summing the mean and then the squared
/// deviations in channel order exactly as the scalar <see cref="LagKvScoring.StatesScore"/>, the unbiased standard
/// deviation, and the shared softmax (<see cref="LagKvScoring.Softmax"/>). Bit-identical to the oracle. Dense f32
/// rows are read in place; other storage formats are decoded once into reused buffers.
/// </summary>
internal sealed class LagKvKernel
{
    private float[] _keys = [];     // [2·lag, keyWidth] decoded keys (non-f32 storage)
    private float[] _values = [];   // [2·lag, valueWidth] decoded values
    private double[] _range = [];   // [2·width] min, then scale
    private double[] _scores = [];  // [2·lag] key scores, then value scores

    /// <summary>Scores tokens [start, start + lag) of <paramref name="head"/> against the next lag tokens.</summary>
    public void ScorePartition(KvHead head, int start, int lag, double scoreVRatio, Span<float> scores)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lag, 1);
        if (start < 0 || start + 2 * lag > head.Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"partition [{start}, {start + 2 * lag}) is outside the head's {head.Count} tokens");
        var keys = KvRowsAccess.Rows(head.Keys, start, 2 * lag, ref _keys);
        var values = KvRowsAccess.Rows(head.Values, start, 2 * lag, ref _values);
        if (_scores.Length < 2 * lag) _scores = new double[2 * lag];
        var keyScore = _scores.AsSpan(0, lag);
        var valueScore = _scores.AsSpan(lag, lag);
        int kw = head.Keys.Width, vw = head.Values.Width;
        StatesScore(keys[..(lag * kw)], keys[(lag * kw)..], kw, keyScore);
        StatesScore(values[..(lag * vw)], values[(lag * vw)..], vw, valueScore);
        for (int t = 0; t < lag; t++) scores[t] = (float)(keyScore[t] + scoreVRatio * valueScore[t]);
    }

    private void StatesScore(ReadOnlySpan<float> partition, ReadOnlySpan<float> reference, int width, Span<double> scores)
    {
        if (_range.Length < 2 * width) _range = new double[2 * width];
        var min = _range.AsSpan(0, width);
        var scale = _range.AsSpan(width, width);
        LagKvScoring.ChannelRange(reference, width, min, scale);
        int n = scores.Length;
        const int lanes = 4;
        for (int t = 0; t < n; t += lanes)
        {
            // A partial last block repeats its last token in the spare lanes; only the valid lanes are stored.
            int b0 = Math.Min(t, n - 1) * width, b1 = Math.Min(t + 1, n - 1) * width;
            int b2 = Math.Min(t + 2, n - 1) * width, b3 = Math.Min(t + 3, n - 1) * width;
            var mean = Vector256<double>.Zero;
            for (int c = 0; c < width; c++)
                mean += (Vector256.Create(partition[b0 + c], partition[b1 + c], partition[b2 + c], partition[b3 + c]) - Vector256.Create(min[c]))
                    * Vector256.Create(scale[c]);
            mean /= Vector256.Create((double)width);
            var squares = Vector256<double>.Zero;
            for (int c = 0; c < width; c++)
            {
                var d = (Vector256.Create(partition[b0 + c], partition[b1 + c], partition[b2 + c], partition[b3 + c]) - Vector256.Create(min[c]))
                    * Vector256.Create(scale[c]) - mean;
                squares += d * d;
            }
            var std = width > 1 ? Vector256.Sqrt(squares / Vector256.Create((double)(width - 1))) : Vector256<double>.Zero;
            for (int k = 0; k < Math.Min(lanes, n - t); k++) scores[t + k] = std[k];
        }
        LagKvScoring.Softmax(scores);
    }
}
