using System.Runtime.CompilerServices;
using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Numerics;

namespace ManagedKv.Model.Reference;

/// <summary>
/// The oracle: every operation as a plain scalar loop in a fixed order, single-threaded and deterministic,
/// reproducing the f32 arithmetic of llama.cpp's CPU backend in the golden build (x86-64 AVX-512, GCC 12,
/// llamafile and CPU_REPACK on; <c>-fa off -ctk f32 -ctv f32</c>) operation by operation, so that its
/// activations are bit-identical to llama.cpp's. That matters for quantised weights: llama.cpp quantises
/// the activation before every quantised matrix multiplication (<see cref="ActivationEncoder"/>), and a
/// one-ulp difference upstream flips an 8-bit code. The emulated kernels live in <see cref="Numerics"/>:
/// <see cref="CpuMatMul"/> picks the kernel llama.cpp runs (vec_dot, llamafile tinyBLAS, CPU_REPACK
/// gemv/gemm) from the type, shape and batch size; attention follows ggml's non-flash path over the padded
/// cell count; softmax and SwiGLU use ggml's vectorised exp; RoPE its contracted rotation.
/// </summary>
public sealed class ReferenceBackend : IBackend
{
    private byte[]? _encoded;   // [row bytes in the vec_dot type] one activation row
    private float[]? _keys;     // [nKv, keyDim]
    private float[]? _valuesT;  // [valueDim, nKv]
    private float[]? _scores;   // [nKv]
    private float[]? _probs;    // [nKv]
    private float[]? _row;      // [max(keyDim, valueDim)]

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
        var encoded = Scratch(ref _encoded, checked((int)GgmlTypeInfo.Get(dotType).RowBytes(w.InFeatures)));
        for (int r = 0; r < rows; r++)
        {
            ActivationEncoder.Encode(dotType, H(x).Row(r)[..w.InFeatures], encoded);
            var yr = H(y).Row(r);
            // llama.cpp picks its kernel from the type, the shape, the batch size (rows) and the row's place in it.
            var kernel = CpuMatMul.Select(w.Type, w.InFeatures, w.OutFeatures, rows, r);
            for (int o = 0; o < w.OutFeatures; o++)
                yr[o] = CpuMatMul.Dot(kernel, w.Type, w.View.Row(o), encoded);
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
            for (int h = 0; h < heads; h++) GgmlRope.Rotate(rope.Style, H(x).Row(r).Slice(h * headDim, rope.Dimensions), cos, sin);
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
    /// <remarks>
    /// llama.cpp's non-flash path with an F32 cache (<c>-fa off -ctk f32 -ctv f32</c>), step by step: the
    /// scores of all n_kv cells (the cell count padded to a multiple of 256 as llama_kv_cache::get_n_kv does,
    /// unused cells reading as zero) are
    /// <c>ggml_vec_dot_f32</c>(k, q), scaled, masked to −∞ where not visible, soft-maxed by
    /// <see cref="GgmlVec.SoftMaxExp"/> and scaled by (float)(1/sum); the output is the matrix product of the
    /// transposed V cells with those weights over all n_kv cells, by tinyBLAS for batches of two or more rows
    /// and by <c>ggml_vec_dot_f32</c> for one. With <paramref name="statistics"/>, the normalised probabilities of
    /// the counted rows are also added to the per-head sums, row by row in position order; nothing else changes.
    /// </remarks>
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null)
    {
        int kd = cache.KeyDim, vd = cache.ValueDim;
        int heads = q.Cols / kd;
        int group = heads / cache.KvHeadCount;
        float scale = 1.0f / MathF.Sqrt(kd);
        bool tiny = positions.Length >= 2 && vd % 4 == 0; // n_kv is a multiple of 16 (llamafile needs k % 16 == 0)
        for (int g = 0; g < cache.KvHeadCount; g++)
        {
            var head = cache.Head(layer, g);
            int cells = head.Count;
            int nKv = Math.Max(256, (cells + 255) / 256 * 256);
            var keys = Scratch(ref _keys, nKv * kd);       // [nKv, kd], zero beyond the used cells
            var valuesT = Scratch(ref _valuesT, vd * nKv); // [vd, nKv]: V transposed, as llama.cpp stores it
            var scores = Scratch(ref _scores, nKv);
            var probs = Scratch(ref _probs, nKv);
            var row = Scratch(ref _row, Math.Max(kd, vd));
            keys.Clear();
            valuesT.Clear();
            for (int j = 0; j < cells; j++)
            {
                head.Keys.Read(j, keys.Slice(j * kd, kd));
                head.Values.Read(j, row[..vd]);
                for (int d = 0; d < vd; d++) valuesT[d * nKv + j] = row[d];
            }
            var cachedPositions = head.Positions;
            if (statistics is not null) SizeStatistics(statistics, g * group, group, cells);
            for (int r = 0; r < positions.Length; r++)
            {
                for (int h = g * group; h < (g + 1) * group; h++)
                {
                    var qh = H(q).Row(r).Slice(h * kd, kd);
                    var oh = H(output).Row(r).Slice(h * vd, vd);
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < nKv; j++)
                    {
                        bool visible = j < cells && cachedPositions[j] <= positions[r];
                        scores[j] = visible ? F32Dot.VecDot(keys.Slice(j * kd, kd), qh) * scale : float.NegativeInfinity;
                        max = scores[j] > max ? scores[j] : max;
                    }
                    if (float.IsNegativeInfinity(max))
                    {
                        oh.Clear(); // nothing visible (only possible after eviction): no attention output
                        continue;
                    }
                    double sum = GgmlVec.SoftMaxExp(scores, probs, max);
                    float inv = (float)(1.0 / sum);
                    for (int j = 0; j < nKv; j++) probs[j] *= inv;
                    if (statistics is not null) AddStatistics(statistics, h, positions[r], probs[..cells]);
                    for (int d = 0; d < vd; d++)
                    {
                        var vRow = valuesT.Slice(d * nKv, nKv);
                        oh[d] = tiny ? F32Dot.TinyBlas(vRow, probs) : F32Dot.VecDot(vRow, probs);
                    }
                }
            }
        }
    }

    /// <summary>Sizes the sums of query heads [first, first + count) to the KV head's <paramref name="cells"/> tokens.</summary>
    /// <remarks>Out of line (as <see cref="AddStatistics"/>), so the plain kernel's loops compile as they did without statistics.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SizeStatistics(AttentionStatistics statistics, int first, int count, int cells)
    {
        for (int h = first; h < first + count; h++) statistics.Accumulator(h, cells); // sized even if no row counts
    }

    /// <summary>Adds one row's normalised probabilities to query head <paramref name="head"/>'s sums when the row counts.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddStatistics(AttentionStatistics statistics, int head, int position, ReadOnlySpan<float> probs)
    {
        if (!statistics.Counts(position)) return;
        var sums = statistics.Accumulator(head, probs.Length);
        for (int j = 0; j < probs.Length; j++) sums[j] += probs[j];
    }

    /// <inheritdoc/>
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows)
    {
        for (int r = 0; r < rows; r++) GgmlVec.SwiGlu(H(gate).Row(r), H(up).Row(r), H(gate).Row(r));
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

    /// <summary>A reusable scratch span of exactly <paramref name="length"/> elements (grown on demand).</summary>
    private static Span<T> Scratch<T>(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new T[length];
        return buffer.AsSpan(0, length);
    }

    private static HostTensor H(DeviceTensor t) => t as HostTensor ?? throw new ArgumentException("tensor belongs to another backend");

    private static ReadOnlySpan<float> F32(DeviceWeight w) =>
        w.Type == GgmlType.F32 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(w.View.Bytes)
            : throw new NotSupportedException($"{w.View.Name}: norm and bias weights must be F32, found {w.Type}");
}
