using System.Runtime.InteropServices;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Tests;

/// <summary>A weight matrix of random values quantised with llama.cpp's reference quantiser, in pinned memory.</summary>
internal sealed unsafe class TestMatrix
{
    private readonly byte[] _bytes;

    private TestMatrix(GgmlType type, int rows, int k, byte[] bytes)
    {
        _bytes = bytes;
        View = new TensorView($"test.{type}", type, [k, rows], (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(bytes, 0));
    }

    /// <summary>The tensor, ggml shape [k, rows].</summary>
    public TensorView View { get; }

    /// <summary>Row <paramref name="r"/>'s bytes.</summary>
    public ReadOnlySpan<byte> Row(int r) => View.Row(r);

    /// <summary>rows × k values ~ N(0, 1/k) (plus a per-row offset so the min/offset formats see asymmetric blocks).</summary>
    public static TestMatrix Random(GgmlType type, int rows, int k, int seed)
    {
        var rng = new Random(seed);
        long rowBytes = GgmlTypeInfo.Get(type).RowBytes(k);
        var bytes = GC.AllocateArray<byte>(checked((int)(rowBytes * rows)) + 64, pinned: true);
        var values = new float[k];
        for (int r = 0; r < rows; r++)
        {
            float offset = (float)(0.3 * Normal(rng) / Math.Sqrt(k));
            for (int i = 0; i < k; i++) values[i] = (float)(Normal(rng) / Math.Sqrt(k)) + offset;
            GgmlQuants.QuantizeRow(type, values, bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        return new TestMatrix(type, rows, k, bytes);
    }

    /// <summary>A standard normal deviate (Box–Muller).</summary>
    public static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>rows × cols activations ~ N(0, 1) with occasional outliers, as hidden states have.</summary>
    public static float[] Activations(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(Normal(rng) * (rng.Next(50) == 0 ? 8 : 1));
        return x;
    }
}
