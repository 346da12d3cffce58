using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Reference;

/// <summary>
/// The oracle: every operation as a plain scalar loop in a fixed order, single-threaded and deterministic.
/// Numerics follow ggml's CPU code where it matters for agreement with llama.cpp: RMSNorm sums squares in
/// double, softmax sums in double and scales by (float)(1/sum), quantised weights see the activation
/// quantised to the weight type's dot-product type (Q8_0, Q8_1, Q8_K, F16, BF16).
/// </summary>
public sealed class ReferenceBackend : IBackend
{
    /// <inheritdoc/>
    public string Name => "reference";

    /// <inheritdoc/>
    public DeviceTensor Allocate(int rows, int cols) => new HostTensor(rows, cols);

    /// <inheritdoc/>
    public DeviceWeight PrepareWeight(TensorView view) => new(view);

    /// <inheritdoc/>
    public void Download(DeviceTensor source, int rows, Span<float> destination) => H(source).Rows0(rows).CopyTo(destination);

    /// <inheritdoc/>
    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x)
    {
        for (int i = 0; i < tokens.Length; i++)
            GgmlQuants.DequantizeRow(table.Type, table.View.Row(tokens[i]), H(x).Row(i));
    }

    /// <inheritdoc/>
    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y)
    {
        var g = F32(gamma);
        for (int r = 0; r < rows; r++)
        {
            var xr = H(x).Row(r);
            var yr = H(y).Row(r);
            double sum = 0;
            foreach (float v in xr) sum += v * v;
            float mean = (float)(sum / xr.Length);
            float scale = 1.0f / MathF.Sqrt(mean + eps);
            for (int i = 0; i < xr.Length; i++) yr[i] = xr[i] * scale * g[i];
        }
    }

    /// <inheritdoc/>
    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y)
    {
        var dotType = QuantDot.VecDotType(w.Type);
        var encoded = new byte[GgmlTypeInfo.Get(dotType).RowBytes(w.InFeatures)];
        for (int r = 0; r < rows; r++)
        {
            ActivationEncoder.Encode(dotType, H(x).Row(r)[..w.InFeatures], encoded);
            var yr = H(y).Row(r);
            for (int o = 0; o < w.OutFeatures; o++)
                yr[o] = QuantDot.Dot(w.Type, w.View.Row(o), encoded);
        }
    }

    /// <inheritdoc/>
    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows)
    {
        var b = F32(bias);
        for (int r = 0; r < rows; r++)
        {
            var yr = H(y).Row(r);
            for (int i = 0; i < b.Length; i++) yr[i] += b[i];
        }
    }

    /// <inheritdoc/>
    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        Span<float> cos = stackalloc float[rope.Dimensions / 2];
        Span<float> sin = stackalloc float[rope.Dimensions / 2];
        for (int r = 0; r < positions.Length; r++)
        {
            rope.Angles(positions[r], cos, sin);
            for (int h = 0; h < heads; h++) rope.Rotate(H(x).Row(r).Slice(h * headDim, headDim), cos, sin);
        }
    }

    /// <inheritdoc/>
    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions)
    {
        for (int r = 0; r < positions.Length; r++)
            for (int h = 0; h < cache.KvHeadCount; h++)
                cache.Append(layer, h, positions[r],
                    H(k).Row(r).Slice(h * cache.KeyDim, cache.KeyDim),
                    H(v).Row(r).Slice(h * cache.ValueDim, cache.ValueDim));
    }

    /// <inheritdoc/>
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output)
    {
        int kd = cache.KeyDim, vd = cache.ValueDim;
        int heads = q.Cols / kd;
        int group = heads / cache.KvHeadCount;
        float scale = 1.0f / MathF.Sqrt(kd);
        var key = new float[kd];
        var value = new float[vd];
        for (int r = 0; r < positions.Length; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                var head = cache.Head(layer, h / group);
                var qh = H(q).Row(r).Slice(h * kd, kd);
                var oh = H(output).Row(r).Slice(h * vd, vd);
                var cachedPositions = head.Positions;
                var p = new float[head.Count];
                float max = float.NegativeInfinity;
                int visible = 0;
                for (int j = 0; j < head.Count && cachedPositions[j] <= positions[r]; j++, visible++)
                {
                    head.Keys.Read(j, key);
                    float dot = 0;
                    for (int d = 0; d < kd; d++) dot += qh[d] * key[d];
                    p[j] = dot * scale;
                    max = MathF.Max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++)
                {
                    p[j] = MathF.Exp(p[j] - max);
                    sum += p[j];
                }
                float inv = visible == 0 ? 0 : (float)(1.0 / sum);
                oh.Clear();
                for (int j = 0; j < visible; j++)
                {
                    head.Values.Read(j, value);
                    float pj = p[j] * inv;
                    for (int d = 0; d < vd; d++) oh[d] += pj * value[d];
                }
            }
        }
    }

    /// <inheritdoc/>
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            var g = H(gate).Row(r);
            var u = H(up).Row(r);
            for (int i = 0; i < g.Length; i++) g[i] = g[i] / (1.0f + MathF.Exp(-g[i])) * u[i];
        }
    }

    /// <inheritdoc/>
    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count) =>
        H(source).Data.AsSpan(sourceRow * source.Cols, count * source.Cols).CopyTo(H(destination).Data.AsSpan(destinationRow * destination.Cols));

    /// <inheritdoc/>
    public void Add(DeviceTensor x, DeviceTensor y, int rows)
    {
        var xs = H(x).Rows0(rows);
        var ys = H(y).Rows0(rows);
        for (int i = 0; i < xs.Length; i++) xs[i] += ys[i];
    }

    /// <inheritdoc/>
    public void Dispose() { }

    private static HostTensor H(DeviceTensor t) => t as HostTensor ?? throw new ArgumentException("tensor belongs to another backend");

    private static ReadOnlySpan<float> F32(DeviceWeight w) =>
        w.Type == GgmlType.F32 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(w.View.Bytes)
            : throw new NotSupportedException($"{w.View.Name}: norm and bias weights must be F32, found {w.Type}");
}
