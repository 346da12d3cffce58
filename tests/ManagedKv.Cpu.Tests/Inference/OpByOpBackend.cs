using ManagedKv.Gguf;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Reference;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// Runs every operation on both the CPU backend and the reference backend (bit-exact with llama.cpp) from the
/// same inputs, logs each operation whose outputs differ, then continues from the reference's output, so each
/// logged difference belongs to that operation alone rather than to an upstream one.
/// </summary>
internal sealed class OpByOpBackend(IBackend cpu, ReferenceBackend reference) : IBackend
{
    private int _op;
    public List<string> Log { get; } = [];
    public string Name => "cpu-vs-reference";
    public DeviceTensor Allocate(int rows, int cols) => cpu.Allocate(rows, cols);
    public DeviceWeight PrepareWeight(TensorView view) => cpu.PrepareWeight(view);
    public void Download(DeviceTensor source, int rows, Span<float> destination) => cpu.Download(source, rows, destination);

    private void Do(string name, HostTensor outT, int rows, Action refOp, Action cpuOp)
    {
        int n = rows * outT.Cols;
        var before = outT.Data.ToArray();
        refOp();
        var refOut = outT.Data.ToArray();
        before.CopyTo(outT.Data, 0);
        cpuOp();
        double max = 0; int diffs = 0; int worst = -1;
        for (int i = 0; i < n; i++)
        {
            double d = Math.Abs(refOut[i] - outT.Data[i]);
            if (refOut[i] != outT.Data[i]) diffs++;
            if (d > max) { max = d; worst = i; }
        }
        if (diffs > 0)
            Log.Add($"op {_op} {name} rows {rows}x{outT.Cols}: {diffs} differ, max {max:G4} at {worst} (ref {refOut[worst]:R} cpu {outT.Data[worst]:R})");
        refOut.CopyTo(outT.Data, 0);
        _op++;
    }

    public void Embed(DeviceWeight table, ReadOnlySpan<int> tokens, DeviceTensor x)
    {
        var t = tokens.ToArray();
        Do($"embed", (HostTensor)x, t.Length, () => reference.Embed(table, t, x), () => cpu.Embed(table, t, x));
    }
    public void RmsNorm(DeviceTensor x, DeviceWeight gamma, float eps, int rows, DeviceTensor y) =>
        Do($"rmsnorm {gamma.View.Name}", (HostTensor)y, rows, () => reference.RmsNorm(x, gamma, eps, rows, y), () => cpu.RmsNorm(x, gamma, eps, rows, y));
    public void MatMul(DeviceWeight w, DeviceTensor x, int rows, DeviceTensor y) =>
        Do($"matmul {w.View.Name} {w.Type}", (HostTensor)y, rows, () => reference.MatMul(w, x, rows, y), () => cpu.MatMul(w, x, rows, y));
    public void AddBias(DeviceTensor y, DeviceWeight bias, int rows) =>
        Do("bias", (HostTensor)y, rows, () => reference.AddBias(y, bias, rows), () => cpu.AddBias(y, bias, rows));
    public void Rope(DeviceTensor x, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var p = positions.ToArray();
        Do("rope", (HostTensor)x, p.Length, () => reference.Rope(x, heads, headDim, p, rope), () => cpu.Rope(x, heads, headDim, p, rope));
    }
    public void AppendKv(KvCache cache, int layer, DeviceTensor k, DeviceTensor v, ReadOnlySpan<int> positions) => cpu.AppendKv(cache, layer, k, v, positions);
    public void Attention(DeviceTensor q, KvCache cache, int layer, ReadOnlySpan<int> positions, DeviceTensor output, AttentionStatistics? statistics = null)
    {
        var p = positions.ToArray();
        Do("attention", (HostTensor)output, p.Length, () => reference.Attention(q, cache, layer, p, output), () => cpu.Attention(q, cache, layer, p, output));
    }
    public void SwiGlu(DeviceTensor gate, DeviceTensor up, int rows) =>
        Do("swiglu", (HostTensor)gate, rows, () => reference.SwiGlu(gate, up, rows), () => cpu.SwiGlu(gate, up, rows));
    public void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int count) =>
        cpu.CopyRows(source, sourceRow, destination, destinationRow, count);
    public void Add(DeviceTensor x, DeviceTensor y, int rows) =>
        Do("add", (HostTensor)x, rows, () => reference.Add(x, y, rows), () => cpu.Add(x, y, rows));
    public void Dispose() => cpu.Dispose();
}
