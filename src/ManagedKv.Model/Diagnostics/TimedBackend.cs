using System.Diagnostics;
using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Diagnostics;

/// <summary>
/// A profiling decorator: forwards every <see cref="IBackend"/> call to <see cref="Inner"/> and adds the call's
/// wall-clock time to a per-operation counter (<see cref="Snapshot"/>), e.g. for attention's share of decode time.
/// Nothing pays for it unless a caller wraps a backend (<c>managedkv bench --profile</c>); wrapped, it costs two
/// timestamp reads per operation and allocates nothing.
/// <para>
/// Times are host wall-clock times of each call. A backend that queues work asynchronously (the GPU) is synchronised
/// (<see cref="IBackend.Synchronize"/>) before each call's clock stops, so its time is execution, not queueing;
/// the waits make a profiled GPU run slower than a plain one.
/// Optional backend interfaces are forwarded too (<see cref="IPressScoring"/>): a wrapped backend must behave as
/// the bare one, or a press would silently fall back to its scalar scoring while being profiled. A new optional
/// interface on backends needs its forwarding here.
/// </para>
/// </summary>
public sealed class TimedBackend : IBackend, IPressScoring
{
    private readonly long[] _ticks = new long[BackendProfile.Operations.Count]; // [ops] Stopwatch ticks
    private readonly long[] _calls = new long[BackendProfile.Operations.Count]; // [ops]
    private readonly long[] _matMulTicks = new long[BackendProfile.WeightTypeSlots]; // [GgmlType] Stopwatch ticks
    private readonly long[] _matMulCalls = new long[BackendProfile.WeightTypeSlots]; // [GgmlType]

    /// <summary>Wraps <paramref name="inner"/>; disposing this disposes it.</summary>
    public TimedBackend(IBackend inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped backend.</summary>
    public IBackend Inner { get; }

    /// <summary>The wrapped backend's name (a profiled run reports the backend it measured).</summary>
    public string Name => Inner.Name;

    /// <summary>A copy of the counters since construction or the last <see cref="Reset"/>.</summary>
    public BackendProfile Snapshot() =>
        new((long[])_ticks.Clone(), (long[])_calls.Clone(), (long[])_matMulTicks.Clone(), (long[])_matMulCalls.Clone());

    /// <summary>Zeroes the counters.</summary>
    public void Reset()
    {
        Array.Clear(_ticks);
        Array.Clear(_calls);
        Array.Clear(_matMulTicks);
        Array.Clear(_matMulCalls);
    }

    /// <inheritdoc/>
    public void Synchronize() => Inner.Synchronize();

    /// <inheritdoc/>
    /// <remarks>
    /// Forwarded: the GPU keeps its cache in device memory, and the interface's default (a host cache) would make a
    /// profiled GPU run copy every layer's cache to the device on each attention call — a different program.
    /// </remarks>
    public KvCache CreateCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage) =>
        Inner.CreateCache(layers, kvHeads, keyDim, valueDim, storage); // set-up, not timed

    /// <inheritdoc/>
    public DeviceTensor Allocate(int rows, int cols) => Inner.Allocate(rows, cols); // set-up, not timed

    /// <inheritdoc/>
    public DeviceWeight PrepareWeight(TensorView view) => Inner.PrepareWeight(view); // set-up, not timed

    /// <inheritdoc/>
    public void Download(DeviceTensor source, int rows, Span<float> destination)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.Download(source, rows, destination);
        Stop(BackendOp.Download, t);
    }

    /// <inheritdoc/>
    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.Embed(table, tokens, x);
        Stop(BackendOp.Embed, t);
    }

    /// <inheritdoc/>
    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.RmsNorm(x, gamma, eps, rows, y);
        Stop(BackendOp.RmsNorm, t);
    }

    /// <inheritdoc/>
    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.MatMul(w, x, rows, y);
        long elapsed = Stop(BackendOp.MatMul, t);
        int slot = Math.Min((int)w.Type, BackendProfile.WeightTypeSlots - 1);
        _matMulTicks[slot] += elapsed;
        _matMulCalls[slot]++;
    }

    /// <inheritdoc/>
    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.AddBias(y, bias, rows);
        Stop(BackendOp.AddBias, t);
    }

    /// <inheritdoc/>
    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.Rope(x, heads, headDim, positions, rope);
        Stop(BackendOp.Rope, t);
    }

    /// <inheritdoc/>
    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.AppendKv(cache, layer, k, v, positions);
        Stop(BackendOp.AppendKv, t);
    }

    /// <inheritdoc/>
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.Attention(q, cache, layer, positions, output, statistics);
        Stop(BackendOp.Attention, t);
    }

    /// <inheritdoc/>
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.SwiGlu(gate, up, rows);
        Stop(BackendOp.SwiGlu, t);
    }

    /// <inheritdoc/>
    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.CopyRows(source, sourceRow, destination, destinationRow, count);
        Stop(BackendOp.CopyRows, t);
    }

    /// <inheritdoc/>
    public void Add(DeviceTensor x, DeviceTensor y, int rows)
    {
        long t = Stopwatch.GetTimestamp();
        Inner.Add(x, y, rows);
        Stop(BackendOp.Add, t);
    }

    /// <summary>Forwards to the wrapped backend's kernel; false (scalar scoring) when it has none.</summary>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores)
    {
        if (Inner is not IPressScoring inner) return false;
        long t = Stopwatch.GetTimestamp();
        bool scored = inner.TryScore(press, context, kvHead, scores);
        Stop(BackendOp.PressScoring, t);
        return scored;
    }

    /// <summary>Forwards to the wrapped backend's kernel; false (scalar scoring) when it has none.</summary>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores)
    {
        if (Inner is not IPressScoring inner) return false;
        long t = Stopwatch.GetTimestamp();
        bool scored = inner.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores);
        Stop(BackendOp.PressScoring, t);
        return scored;
    }

    /// <summary>Forwards to the wrapped backend's kernel; false (scalar code) when it has none.</summary>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination)
    {
        if (Inner is not IPressScoring inner) return false;
        long t = Stopwatch.GetTimestamp();
        bool done = inner.TryMeanOverHeads(statistics, firstHead, count, destination);
        Stop(BackendOp.PressScoring, t);
        return done;
    }

    /// <summary>Forwards to the wrapped backend's kernel; false (scalar code) when it has none.</summary>
    public bool TryAveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output)
    {
        if (Inner is not IPressScoring inner) return false;
        long t = Stopwatch.GetTimestamp();
        bool done = inner.TryAveragePool(input, kernel, output);
        Stop(BackendOp.PressScoring, t);
        return done;
    }

    /// <summary>Disposes the wrapped backend.</summary>
    public void Dispose() => Inner.Dispose();

    /// <summary>Counts one call of <paramref name="op"/> begun at <paramref name="started"/>; returns its ticks.</summary>
    private long Stop(BackendOp op, long started)
    {
        Inner.Synchronize(); // an asynchronous backend's queued work belongs to the operation that issued it
        long elapsed = Stopwatch.GetTimestamp() - started;
        _ticks[(int)op] += elapsed;
        _calls[(int)op]++;
        return elapsed;
    }
}
