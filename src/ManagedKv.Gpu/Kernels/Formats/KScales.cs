using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>The packed 6-bit scales and mins of Q4_K/Q5_K super-blocks (ggml's get_scale_min_k4).</summary>
internal static class KScales
{
    /// <summary>Scale and min of sub-block <paramref name="j"/> from the 12 bytes at <paramref name="q"/>.</summary>
    public static void Get(ArrayView<byte> w, long q, int j, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = w[q + j] & 63;
            min = w[q + j + 4] & 63;
        }
        else
        {
            scale = (w[q + j + 4] & 0xF) | ((w[q + j - 4] >> 6) << 4);
            min = (w[q + j + 4] >> 4) | ((w[q + j] >> 6) << 4);
        }
    }
}
