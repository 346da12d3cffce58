using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;

namespace ManagedKv.TestKit;

/// <summary>
/// A backend that runs every forward-pass operation on <paramref name="inner"/> but offers the presses
/// <paramref name="scoring"/>'s score kernels: lets a test put a kernel set (e.g. GPU press kernels) under a real
/// forward pass without a whole backend around it. Does not own either.
/// </summary>
public sealed class ScoringBackend(IBackend inner, IPressScoring scoring) : IBackend, IPressScoring
{
    /// <inheritdoc/>
    public string Name => inner.Name + "+scoring";

    /// <inheritdoc/>
    public bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores) => scoring.TryScore(press, context, kvHead, scores);

    /// <inheritdoc/>
    public bool TryScoreLagPartitions(PressContext context, int kvHead, int start, int partitions, int lag, double scoreVRatio, Span<float> scores) =>
        scoring.TryScoreLagPartitions(context, kvHead, start, partitions, lag, scoreVRatio, scores);

    /// <inheritdoc/>
    public bool TryMeanOverHeads(AttentionStatistics statistics, int firstHead, int count, Span<float> destination) =>
        scoring.TryMeanOverHeads(statistics, firstHead, count, destination);

    /// <inheritdoc/>
    public DeviceTensor Allocate(int rows, int cols) => inner.Allocate(rows, cols);

    /// <inheritdoc/>
    public DeviceWeight PrepareWeight(TensorView view) => inner.PrepareWeight(view);

    /// <inheritdoc/>
    public void Download(DeviceTensor source, int rows, Span<float> destination) => inner.Download(source, rows, destination);

    /// <inheritdoc/>
    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x) => inner.Embed(table, tokens, x);

    /// <inheritdoc/>
    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y) => inner.RmsNorm(x, gamma, eps, rows, y);

    /// <inheritdoc/>
    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y) => inner.MatMul(w, x, rows, y);

    /// <inheritdoc/>
    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows) => inner.AddBias(y, bias, rows);

    /// <inheritdoc/>
    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope) =>
        inner.Rope(x, heads, headDim, positions, rope);

    /// <inheritdoc/>
    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions) =>
        inner.AppendKv(cache, layer, k, v, positions);

    /// <inheritdoc/>
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null) => inner.Attention(q, cache, layer, positions, output, statistics);

    /// <inheritdoc/>
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows) => inner.SwiGlu(gate, up, rows);

    /// <inheritdoc/>
    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count) =>
        inner.CopyRows(source, sourceRow, destination, destinationRow, count);

    /// <inheritdoc/>
    public void Add(DeviceTensor x, DeviceTensor y, int rows) => inner.Add(x, y, rows);

    /// <summary>Disposes nothing: the inner backend and the scoring belong to the caller.</summary>
    public void Dispose() { }
}
