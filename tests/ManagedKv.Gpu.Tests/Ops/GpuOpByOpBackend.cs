using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Gguf;
using ManagedKv.Gpu.Device;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Reference;

namespace ManagedKv.Gpu.Tests.Ops;

/// <summary>
/// Runs every operation on both the GPU backend and the reference backend (bit-exact with llama.cpp) from the same
/// inputs, records how far each GPU output is from the reference's, then continues from the reference's output
/// (uploaded into the device tensor), so each recorded difference belongs to that operation alone. The KV cache is
/// the GPU backend's (device rows); the reference's attention reads it through <see cref="KvRows.Read"/>. Attention
/// statistics are checked too: the GPU adds its probabilities into a shadow and the reference's increment is compared.
/// Does not own the GPU backend.
/// </summary>
internal sealed class GpuOpByOpBackend(GpuBackend gpu) : IBackend
{
    private readonly ReferenceBackend _reference = new();
    private float[] _download = [];

    /// <summary>Per operation kind (e.g. "matmul Q8_0", "attention"): calls, worst |Δ| and worst |Δ| / (1 + max |reference|).</summary>
    public Dictionary<string, OpDeviation> Deviations { get; } = [];

    public string Name => "gpu-vs-reference";

    public KvCache CreateCache(int layers, int kvHeads, int keyDim, int valueDim, KvStorageType storage) =>
        gpu.CreateCache(layers, kvHeads, keyDim, valueDim, storage);

    public DeviceTensor Allocate(int rows, int cols) => new Pair(new HostTensor(rows, cols), (GpuTensor)gpu.Allocate(rows, cols));

    public DeviceWeight PrepareWeight(TensorView view) => new PairWeight(view, gpu.PrepareWeight(view));

    public void Download(DeviceTensor source, int rows, Span<float> destination) => _reference.Download(P(source).Host, rows, destination);

    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x)
    {
        _reference.Embed(table, tokens, P(x).Host);
        gpu.Embed(D(table), tokens, P(x).Device);
        Compare($"embed {table.Type}", P(x), tokens.Length);
    }

    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y)
    {
        _reference.RmsNorm(P(x).Host, gamma, eps, rows, P(y).Host);
        gpu.RmsNorm(P(x).Device, D(gamma), eps, rows, P(y).Device);
        Compare("rmsnorm", P(y), rows);
    }

    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y)
    {
        _reference.MatMul(w, P(x).Host, rows, P(y).Host);
        gpu.MatMul(D(w), P(x).Device, rows, P(y).Device);
        Compare($"matmul {w.Type}", P(y), rows);
    }

    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows)
    {
        _reference.AddBias(P(y).Host, bias, rows);
        gpu.AddBias(P(y).Device, D(bias), rows);
        Compare("bias", P(y), rows);
    }

    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        _reference.Rope(P(x).Host, heads, headDim, positions, rope);
        gpu.Rope(P(x).Device, heads, headDim, positions, rope);
        Compare($"rope {rope.Style}", P(x), positions.Length);
    }

    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions) =>
        gpu.AppendKv(cache, layer, P(k).Device, P(v).Device, positions);

    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output,
        AttentionStatistics? statistics = null)
    {
        AttentionStatistics? shadow = null;
        float[][] before = [];
        if (statistics is not null)
        {
            shadow = new AttentionStatistics(statistics.QueryHeadCount);
            shadow.Begin(statistics.Call, statistics.Queries.Start);
            before = Enumerable.Range(0, statistics.QueryHeadCount).Select(h => statistics.Sums(h).ToArray()).ToArray();
        }
        _reference.Attention(P(q).Host, cache, layer, positions, P(output).Host, statistics);
        gpu.Attention(P(q).Device, cache, layer, positions, P(output).Device, shadow);
        Compare("attention", P(output), positions.Length);
        if (statistics is null || shadow is null) return;
        double worst = 0, scale = 0;
        for (int h = 0; h < statistics.QueryHeadCount; h++)
        {
            ReadOnlySpan<float> after = statistics.Sums(h), added = shadow.Sums(h);
            if (after.Length != added.Length) throw new InvalidOperationException($"statistics of head {h}: reference covers {after.Length} tokens, GPU {added.Length}");
            for (int j = 0; j < after.Length; j++)
            {
                float expected = after[j] - (j < before[h].Length ? before[h][j] : 0);
                worst = Math.Max(worst, Math.Abs(expected - added[j]));
                scale = Math.Max(scale, Math.Abs(expected));
            }
        }
        Record("attention statistics", worst, scale);
    }

    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows)
    {
        _reference.SwiGlu(P(gate).Host, P(up).Host, rows);
        gpu.SwiGlu(P(gate).Device, P(up).Device, rows);
        Compare("swiglu", P(gate), rows);
    }

    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count)
    {
        _reference.CopyRows(P(source).Host, sourceRow, P(destination).Host, destinationRow, count);
        gpu.CopyRows(P(source).Device, sourceRow, P(destination).Device, destinationRow, count);
    }

    public void Add(DeviceTensor x, DeviceTensor y, int rows)
    {
        _reference.Add(P(x).Host, P(y).Host, rows);
        gpu.Add(P(x).Device, P(y).Device, rows);
        Compare("add", P(x), rows);
    }

    public void Dispose() => _reference.Dispose();

    /// <summary>Records the GPU's deviation on the first <paramref name="rows"/> rows, then puts the reference's whole tensor on the device.</summary>
    private void Compare(string op, Pair t, int rows)
    {
        int n = rows * t.Cols;
        if (_download.Length < n) _download = new float[n];
        gpu.Download(t.Device, rows, _download);
        double worst = 0, scale = 0;
        for (int i = 0; i < n; i++)
        {
            float e = t.Host.Data[i], a = _download[i];
            worst = Math.Max(worst, float.IsFinite(a) ? Math.Abs(e - a) : double.PositiveInfinity);
            scale = Math.Max(scale, Math.Abs(e));
        }
        Record(op, worst, scale);
        t.Device.View.SubView(0, t.Host.Data.Length).CopyFromCPU(t.Host.Data);
    }

    private void Record(string op, double worst, double scale)
    {
        var d = Deviations.GetValueOrDefault(op);
        Deviations[op] = new OpDeviation(d.Calls + 1, Math.Max(d.MaxAbsolute, worst), Math.Max(d.MaxRelative, worst / (1 + scale)));
    }

    private static Pair P(DeviceTensor t) => (Pair)t;

    private static DeviceWeight D(DeviceWeight w) => ((PairWeight)w).Device;

    /// <summary>A tensor on both backends: the reference's host values and the GPU's device copy.</summary>
    private sealed class Pair(HostTensor host, GpuTensor device) : DeviceTensor(host.Rows, host.Cols)
    {
        public HostTensor Host => host;
        public GpuTensor Device => device;

        public override void Dispose()
        {
            device.Dispose();
            base.Dispose();
        }
    }

    /// <summary>A weight on both backends (the reference reads the view itself).</summary>
    private sealed class PairWeight(TensorView view, DeviceWeight device) : DeviceWeight(view)
    {
        public DeviceWeight Device => device;
    }
}

/// <summary>How far one kind of operation's GPU outputs were from the reference's.</summary>
/// <param name="Calls">Calls compared.</param>
/// <param name="MaxAbsolute">Largest |gpu − reference| over every output value.</param>
/// <param name="MaxRelative">Largest |gpu − reference| / (1 + max |reference|) of one call.</param>
internal readonly record struct OpDeviation(int Calls, double MaxAbsolute, double MaxRelative);
