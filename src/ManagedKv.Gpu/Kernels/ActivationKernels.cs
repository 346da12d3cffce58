using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Converts activation rows to the dot-product type of a weight type, as ggml-cpu does on x86 before a matrix
/// product, and stores the result as the f32 values that type represents (d·q is exact in f32), so the matrix
/// kernel is one f32 loop for every format. One thread per block (32 or 256 values) or per element.
/// </summary>
internal static class ActivationKernels
{
    /// <summary>
    /// x86 quantize_row_q8_0 / q8_1 for block i (row i / blocks): d = amax/127 stored as f16, codes
    /// RNE(x·127/amax) saturated to int8; xs = f16(d·Σ unsaturated codes) (used by Q4_1/Q5_1).
    /// </summary>
    public static void Q8(Index1D i, ArrayView<float> x, long xStride, int blocks, ArrayView<float> xq, ArrayView<float> xs)
    {
        int r = i / blocks, b = i % blocks;
        long src = r * xStride + 32L * b, dst = (long)r * blocks * 32 + 32L * b;
        float amax = 0;
        for (int j = 0; j < 32; j++)
        {
            float a = XMathAbs(x[src + j]);
            amax = a > amax ? a : amax;
        }
        float d = amax / 127f;
        float id = amax != 0 ? 127f / amax : 0f;
        float dh = Bits.RoundToHalf(d);
        int sum = 0;
        for (int j = 0; j < 32; j++)
        {
            int q = Bits.NearestInt(x[src + j] * id);
            sum += q;
            q = q > 127 ? 127 : q < -128 ? -128 : q;
            xq[dst + j] = dh * q;
        }
        xs[i] = Bits.RoundToHalf(d * sum);
    }

    /// <summary>
    /// quantize_row_q8_K_ref for block i of 256 values: with max the first value of largest magnitude,
    /// iscale = −127/max, q = min(127, RNE(iscale·x)), d = 1/iscale (f32).
    /// </summary>
    public static void Q8K(Index1D i, ArrayView<float> x, long xStride, int blocks, ArrayView<float> xq)
    {
        int r = i / blocks, b = i % blocks;
        long src = r * xStride + 256L * b, dst = (long)r * blocks * 256 + 256L * b;
        float max = 0, amax = 0;
        for (int j = 0; j < 256; j++)
        {
            float a = XMathAbs(x[src + j]);
            if (a > amax)
            {
                amax = a;
                max = x[src + j];
            }
        }
        if (amax == 0)
        {
            for (int j = 0; j < 256; j++) xq[dst + j] = 0;
            return;
        }
        float iscale = -127f / max;
        float d = 1 / iscale;
        for (int j = 0; j < 256; j++)
        {
            int q = Bits.NearestInt(iscale * x[src + j]);
            xq[dst + j] = d * (q < 127 ? q : 127);
        }
    }

    /// <summary>Element i of a [rows, cols] block rounded to f16 (<paramref name="bfloat"/> false) or bf16.</summary>
    public static void Round(Index1D i, ArrayView<float> x, long xStride, int cols, ArrayView<float> xq, int bfloat)
    {
        int r = i / cols, c = i % cols;
        float v = x[r * xStride + c];
        xq[i] = bfloat != 0 ? Bits.RoundToBFloat(v) : Bits.RoundToHalf(v);
    }

    private static float XMathAbs(float v) => v < 0 ? -v : v;
}
