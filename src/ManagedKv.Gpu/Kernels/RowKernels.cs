using ILGPU;
using ILGPU.Algorithms;

namespace ManagedKv.Gpu.Kernels;

/// <summary>Row-wise and element-wise kernels of the forward pass.</summary>
internal static class RowKernels
{
    /// <summary>
    /// RMSNorm, one warp per row: y = x · 1/√(mean(x²) + eps) · gamma. Grid: ⌈rows / warps per group⌉ groups.
    /// </summary>
    public static void RmsNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> y, int rows, int cols, float eps)
    {
        int r = Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
        if (r >= rows) return;
        long row = (long)r * cols;
        // Four independent sums keep four loads in flight per lane (one chain made a decode-size row take 35 µs).
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int stride = Warp.WarpSize, e = Warp.LaneIdx;
        for (; e + 3 * stride < cols; e += 4 * stride)
        {
            float a = x[row + e], b = x[row + e + stride], c = x[row + e + 2 * stride], d = x[row + e + 3 * stride];
            s0 += a * a;
            s1 += b * b;
            s2 += c * c;
            s3 += d * d;
        }
        for (; e < cols; e += stride) s0 += x[row + e] * x[row + e];
        float sum = WarpOps.Sum((s0 + s1) + (s2 + s3));
        float scale = 1.0f / XMath.Sqrt(sum / cols + eps);
        for (int i = Warp.LaneIdx; i < cols; i += Warp.WarpSize) y[row + i] = x[row + i] * scale * gamma[i];
    }

    /// <summary>
    /// RoPE in place: thread i rotates pair i % half of head (i / half) % heads of row i / (half·heads), with the
    /// angles of its row's position from <paramref name="cos"/>/<paramref name="sin"/> ([rows, half]).
    /// Pairs are adjacent (<paramref name="neox"/> = 0) or (j, j + half) (NeoX).
    /// </summary>
    public static void Rope(Index1D i, ArrayView<float> x, int cols, int heads, int headDim, int half, int neox,
        ArrayView<float> cos, ArrayView<float> sin)
    {
        int p = i % half, h = (i / half) % heads, r = i / (half * heads);
        long head = (long)r * cols + (long)h * headDim;
        long a = head + (neox != 0 ? p : 2 * p), b = head + (neox != 0 ? p + half : 2 * p + 1);
        float c = cos[r * half + p], s = sin[r * half + p];
        float x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }

    /// <summary>gate[i] = silu(gate[i]) · up[i] = gate / (1 + e^−gate) · up.</summary>
    public static void SwiGlu(Index1D i, ArrayView<float> gate, ArrayView<float> up)
    {
        float g = gate[i];
        gate[i] = g / (1.0f + XMath.Exp(-g)) * up[i];
    }

    /// <summary>x[i] += y[i].</summary>
    public static void Add(Index1D i, ArrayView<float> x, ArrayView<float> y) => x[i] += y[i];

    /// <summary>y[i] += bias[i % cols] for a [rows, cols] block.</summary>
    public static void AddBias(Index1D i, ArrayView<float> y, ArrayView<float> bias, int cols) => y[i] += bias[i % cols];
}
