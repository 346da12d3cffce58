using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Compression.Presses;
using ManagedKv.Model.Inference;

namespace ManagedKv.Gpu.Presses;

/// <summary>
/// Press score kernels on an ILGPU accelerator: KNorm's key norms (<see cref="KnormKernel"/>), SnapKV's and
/// PyramidKV's pooled window attention (<see cref="AttentionMeanKernel"/> + <see cref="SnapKvKernel"/>), TOVA's and
/// H2O's head means (<see cref="AttentionMeanKernel"/>) and LagKV's partition scores (<see cref="LagKvKernel"/>, both
/// variants). The shared selection code (<see cref="TokenSelection"/>, the presses' own plan logic) turns the
/// scores into plans, exactly as with the scalar oracles. Random and StreamingLLM have no per-token work and no kernel.
/// <para>
/// Inputs are read on the host (<see cref="KvRows.Read"/>, <see cref="AttentionStatistics.Sums"/>) into reusable
/// host and device buffers and uploaded per call; scores are downloaded. Group sizes come from the accelerator.
/// One instance serves one session at a time (the buffers are shared between calls); it does not own the accelerator.
/// </para>
/// </summary>
public sealed class GpuPressScoring : IPressScoring, IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly DeviceScratch<float> _keys, _values, _scores, _work;   // row uploads, results, intermediates
    private readonly DeviceScratch<double> _min, _scale, _keyDeviation, _valueDeviation; // LagKV intermediates
    private float[] _host = [];  // host staging for uploads and downloads
    private Action<Index1D, ArrayView<float>, int, ArrayView<float>>? _knorm;
    private Action<Index1D, ArrayView<float>, int, int, float, ArrayView<float>>? _mean;
    private Action<Index1D, ArrayView<float>, int, int, ArrayView<float>>? _pool;
    private Action<Index1D, ArrayView<float>, int, int, ArrayView<double>, ArrayView<double>>? _range;
    private Action<Index1D, ArrayView<float>, int, int, ArrayView<double>, ArrayView<double>, ArrayView<double>>? _deviation;
    private Action<KernelConfig, ArrayView<double>, ArrayView<double>, int, double, ArrayView<float>>? _combine;

    /// <summary>Creates the kernels' buffers on <paramref name="accelerator"/> (kernels compile on first use).</summary>
    /// <param name="accelerator">The device; its context must have ILGPU.Algorithms enabled (<c>EnableAlgorithms()</c>).</param>
    public GpuPressScoring(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        _accelerator = accelerator;
        _keys = new(accelerator);
        _values = new(accelerator);
        _scores = new(accelerator);
        _work = new(accelerator);
        _min = new(accelerator);
        _scale = new(accelerator);
        _keyDeviation = new(accelerator);
        _valueDeviation = new(accelerator);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator => _accelerator;

    /// <inheritdoc/>
    /// <remarks>KNorm, SnapKV, PyramidKV and TOVA; false for every other press.</remarks>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(press);
        ArgumentNullException.ThrowIfNull(context);
        switch (press)
        {
            case KnormPress:
                ScoreKnorm(context.Head(kvHead).Keys, scores);
                return true;
            case SnapKvPress snap: // PyramidKV included: same scores, another budget
                ScoreSnapKv(context, snap, kvHead, scores);
                return true;
            case TovaPress:
                ScoreTova(context, kvHead, scores);
                return true;
            default:
                return false;
        }
    }

    /// <inheritdoc/>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (partitions == 0) return true;
        var head = context.Head(kvHead);
        int rows = (partitions + 1) * lag;
        var keys = UploadRows(head.Keys, start, rows, _keys);
        var values = UploadRows(head.Values, start, rows, _values);
        var keyDeviation = _keyDeviation.View((long)partitions * lag);
        var valueDeviation = _valueDeviation.View((long)partitions * lag);
        PartitionDeviations(keys, head.Keys.Width, partitions, lag, keyDeviation);
        PartitionDeviations(values, head.Values.Width, partitions, lag, valueDeviation);

        _combine ??= _accelerator.LoadStreamKernel<ArrayView<double>, ArrayView<double>, int, double, ArrayView<float>>(LagKvKernel.Combine);
        var output = _scores.View((long)partitions * lag);
        _combine(new KernelConfig(partitions, PartitionGroupSize(lag)), keyDeviation, valueDeviation, lag, scoreVRatio, output);
        Download(output, scores[..(partitions * lag)]);
        return true;
    }

    /// <inheritdoc/>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (destination.IsEmpty) return true;
        Mean(statistics, firstHead, count, destination.Length, 1f, _scores);
        Download(_scores.View(destination.Length), destination);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var buffer in new IDisposable[] { _keys, _values, _scores, _work, _min, _scale, _keyDeviation, _valueDeviation })
            buffer.Dispose();
    }

    private void ScoreKnorm(KvRows keys, Span<float> scores)
    {
        if (scores.IsEmpty) return;
        var rows = UploadRows(keys, 0, scores.Length, _keys);
        _knorm ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>>(KnormKernel.Kernel);
        var output = _scores.View(scores.Length);
        _knorm(scores.Length, rows, keys.Width, output);
        Download(output, scores);
    }

    private void ScoreSnapKv(PressContext context, SnapKvPress press, int kvHead, Span<float> scores)
    {
        var statistics = context.RequireStatistics(press.Name);
        var positions = context.Head(kvHead).Positions;
        int prefix = 0; // tokens before the observation window (positions ascend)
        while (prefix < positions.Length && positions[prefix] < statistics.Queries.Start) prefix++;
        if (prefix > 0)
        {
            int group = AttentionScores.GroupSize(statistics, context);
            Mean(statistics, kvHead * group, group, prefix, statistics.Queries.Count, _work);
            _pool ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<float>>(SnapKvKernel.Pool);
            var output = _scores.View(prefix);
            _pool(prefix, _work.View(prefix), prefix, press.KernelSize, output);
            Download(output, scores[..prefix]);
        }
        // The window is kept by the recent window; its score mirrors kvpress's "max" padding, as the oracle.
        scores[prefix..].Fill(float.PositiveInfinity);
    }

    private void ScoreTova(PressContext context, int kvHead, Span<float> scores)
    {
        var statistics = context.RequireStatistics("tova");
        if (scores.IsEmpty) return;
        if (AttentionScores.HeadsAligned(context)) Mean(statistics, 0, statistics.QueryHeadCount, scores.Length, 1f, _scores);
        else
        {
            int group = AttentionScores.GroupSize(statistics, context);
            Mean(statistics, kvHead * group, group, scores.Length, 1f, _scores);
        }
        Download(_scores.View(scores.Length), scores);
    }

    /// <summary>Uploads the sums of query heads [first, first + count) over <paramref name="tokens"/> tokens and averages them into <paramref name="destination"/>.</summary>
    private void Mean(AttentionStatistics statistics, int firstHead, int count, int tokens, float divisor, DeviceScratch<float> destination)
    {
        var host = Host((long)count * tokens);
        for (int h = 0; h < count; h++)
        {
            var sums = statistics.Sums(firstHead + h);
            if (sums.Length < tokens)
                throw new ArgumentException($"attention statistics of query head {firstHead + h} cover {sums.Length} tokens; {tokens} were asked for");
            sums[..tokens].CopyTo(host.Slice(h * tokens, tokens));
        }
        var input = _keys.Upload(host);
        _mean ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, float, ArrayView<float>>(AttentionMeanKernel.Kernel);
        _mean(tokens, input, tokens, count, divisor, destination.View(tokens));
    }

    /// <summary>The unbiased deviations of every token of <paramref name="partitions"/> partitions against their successors.</summary>
    private void PartitionDeviations(ArrayView<float> rows, int width, int partitions, int lag, ArrayView<double> deviation)
    {
        _range ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<double>, ArrayView<double>>(LagKvKernel.Range);
        _deviation ??= _accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, int, ArrayView<double>, ArrayView<double>, ArrayView<double>>(
            LagKvKernel.Deviation);
        var min = _min.View((long)partitions * width);
        var scale = _scale.View((long)partitions * width);
        _range(partitions * width, rows, width, lag, min, scale);
        _deviation(partitions * lag, rows, width, lag, min, scale, deviation);
    }

    /// <summary>
    /// Threads per partition group: enough warps to cover the partition, at most the device's group limit (the
    /// group reductions need whole warps).
    /// </summary>
    private int PartitionGroupSize(int lag)
    {
        int warp = Math.Max(1, _accelerator.WarpSize);
        int warps = Math.Max(1, Math.Min((lag + warp - 1) / warp, _accelerator.MaxNumThreadsPerGroup / warp));
        return warps * warp;
    }

    /// <summary>Reads rows [start, start + count) of <paramref name="rows"/> on the host and uploads them, [count, width].</summary>
    private ArrayView<float> UploadRows(KvRows rows, int start, int count, DeviceScratch<float> device)
    {
        int width = rows.Width;
        var host = Host((long)count * width);
        for (int i = 0; i < count; i++) rows.Read(start + i, host.Slice(i * width, width));
        return device.Upload(host);
    }

    private void Download(ArrayView<float> source, Span<float> destination)
    {
        ((ArrayView1D<float, Stride1D.Dense>)source.SubView(0, destination.Length)).CopyToCPU(_accelerator.DefaultStream, destination);
        _accelerator.DefaultStream.Synchronize();
    }

    private Span<float> Host(long length)
    {
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), length, "scoring input too large for one host buffer");
        if (_host.Length < length) _host = new float[Math.Max(length, Math.Min(Array.MaxLength, _host.Length * 2L))];
        return _host.AsSpan(0, (int)length);
    }
}
