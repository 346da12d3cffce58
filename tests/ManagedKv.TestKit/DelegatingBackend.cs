using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;

namespace ManagedKv.TestKit;

/// <summary>
/// A backend that forwards every operation to <paramref name="inner"/>; tests derive from it to add score kernels
/// (<see cref="ScoringBackend"/>) or to perturb one operation (a deliberately wrong candidate). Does not own it.
/// </summary>
public class DelegatingBackend(IBackend inner) : IBackend
{
    /// <summary>The backend doing the work.</summary>
    protected IBackend Inner => inner;

    /// <inheritdoc/>
    public virtual string Name => inner.Name;

    /// <inheritdoc/>
    /// <remarks>Forwarded too: a backend with its own cache storage (the GPU's device rows) must keep it behind a wrapper.</remarks>
    public virtual KvCache CreateCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage) =>
        inner.CreateCache(layers, kvHeads, keyDim, valueDim, storage);

    /// <inheritdoc/>
    public virtual void Synchronize() => inner.Synchronize();

    /// <inheritdoc/>
    public virtual DeviceTensor Allocate(int rows, int cols) => inner.Allocate(rows, cols);

    /// <inheritdoc/>
    public virtual DeviceWeight PrepareWeight(TensorView view) => inner.PrepareWeight(view);

    /// <inheritdoc/>
    public virtual void Download(DeviceTensor source, int rows, Span<float> destination) => inner.Download(source, rows, destination);

    /// <inheritdoc/>
    public virtual void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x) => inner.Embed(table, tokens, x);

    /// <inheritdoc/>
    public virtual void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y) => inner.RmsNorm(x, gamma, eps, rows, y);

    /// <inheritdoc/>
    public virtual void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y) => inner.MatMul(w, x, rows, y);

    /// <inheritdoc/>
    public virtual void AddBias(DeviceTensor y, DeviceWeight bias, int rows) => inner.AddBias(y, bias, rows);

    /// <inheritdoc/>
    public virtual void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope) =>
        inner.Rope(x, heads, headDim, positions, rope);

    /// <inheritdoc/>
    public virtual void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions) =>
        inner.AppendKv(cache, layer, k, v, positions);

    /// <inheritdoc/>
    public virtual void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null) => inner.Attention(q, cache, layer, positions, output, statistics);

    /// <inheritdoc/>
    public virtual void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows) => inner.SwiGlu(gate, up, rows);

    /// <inheritdoc/>
    public virtual void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count) =>
        inner.CopyRows(source, sourceRow, destination, destinationRow, count);

    /// <inheritdoc/>
    public virtual void Add(DeviceTensor x, DeviceTensor y, int rows) => inner.Add(x, y, rows);

    /// <summary>Disposes nothing: the inner backend belongs to the caller.</summary>
    public void Dispose() => GC.SuppressFinalize(this);
}
