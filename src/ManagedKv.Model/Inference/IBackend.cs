using ManagedKv.Gguf;
using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Inference;

/// <summary>
/// The operations the forward pass needs. The pass (<see cref="Transformer"/>) is written once against
/// this interface; the reference backend (scalar oracle), the CPU backend (SIMD, threads) and the GPU
/// backend (ILGPU) implement it. Activations are <see cref="DeviceTensor"/>s the backend allocates.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name, e.g. <c>reference</c>, <c>cpu</c>, <c>gpu</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Creates an empty KV cache whose dense rows live where this backend's attention reads them (managed memory by
    /// default; device memory on a GPU).
    /// </summary>
    KvCache CreateCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage) =>
        new(layers, kvHeads, keyDim, valueDim, storage);

    /// <summary>
    /// Waits until every operation issued so far has finished. Backends that run operations asynchronously (a GPU
    /// queue) override it; <see cref="Diagnostics.TimedBackend"/> calls it so each operation's time is its own.
    /// </summary>
    void Synchronize() { }

    /// <summary>Allocates an activation matrix [rows, cols] (contents unspecified).</summary>
    DeviceTensor Allocate(int rows, int cols);

    /// <summary>Prepares a weight tensor (zero-copy on the CPU).</summary>
    DeviceWeight PrepareWeight(TensorView view);

    /// <summary>Copies rows [0, rows) of a tensor to the host.</summary>
    void Download(DeviceTensor source, int rows, Span<float> destination);

    /// <summary>x[i] = table[tokens[i]] dequantised to f32.</summary>
    void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x);

    /// <summary>y[i] = x[i] / rms(x[i]) · gamma for rows [0, rows) (ggml's rms_norm then mul).</summary>
    void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y);

    /// <summary>
    /// y[i] = W · x[i] for rows [0, rows) (y[i, o] = Σ_k W[o, k] x[i, k]); quantised weights quantise the
    /// activation row to the weight type's dot-product type as llama.cpp does.
    /// </summary>
    void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y);

    /// <summary>y[i] += bias for rows [0, rows).</summary>
    void AddBias(DeviceTensor y, DeviceWeight bias, int rows);

    /// <summary>Applies RoPE in place to rows [0, positions.Length) of x, viewed as [rows, heads, headDim].</summary>
    void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope);

    /// <summary>Appends rows [0, positions.Length) of k and v ([rows, kvHeads·dim]) to layer <paramref name="layer"/> of the cache.</summary>
    void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions);

    /// <summary>
    /// Causal attention of queries q ([rows, heads·keyDim], rows = positions.Length) over every cached token
    /// of the layer whose position is ≤ the query's position, with GQA head sharing; writes
    /// [rows, heads·valueDim] to output. Scale 1/√keyDim, f32 softmax.
    /// </summary>
    /// <param name="q">[rows, heads·keyDim] queries after RoPE.</param>
    /// <param name="cache">The cache, already holding this micro-batch's keys and values.</param>
    /// <param name="layer">The layer.</param>
    /// <param name="positions">[rows] the queries' positions.</param>
    /// <param name="output">[rows, heads·valueDim] the attention output.</param>
    /// <param name="statistics">
    /// Null (the default): the plain kernel. Otherwise, for every query head h, first size
    /// <see cref="AttentionStatistics.Accumulator"/>(h, tokens of h's KV head), then for every row whose position
    /// <see cref="AttentionStatistics.Counts"/>, add its normalised softmax probabilities to that accumulator. The
    /// output must be the same bits with or without statistics.
    /// </param>
    void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null);

    /// <summary>gate = silu(gate) · up for rows [0, rows).</summary>
    void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows);

    /// <summary>Copies <paramref name="count"/> rows of source starting at sourceRow into destination at destinationRow.</summary>
    void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count);

    /// <summary>x += y for rows [0, rows).</summary>
    void Add(DeviceTensor x, DeviceTensor y, int rows);
}
