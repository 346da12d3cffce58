using ILGPU;
using ILGPU.Algorithms;

namespace ManagedKv.Gpu.Presses;

/// <summary>
/// KNorm's score on the device (<see cref="Model.Compression.Presses.KnormPress"/>): score = −‖k‖₂ per token.
/// One thread per token walks its key row in channel order, squaring in f32 and summing in f64 exactly as the
/// scalar oracle does, so the two agree bit for bit wherever the device's square root is correctly rounded.
/// </summary>
internal static class KnormKernel
{
    /// <summary>scores[t] = −sqrt(Σ_c keys[t, c]²).</summary>
    /// <param name="token">The token (implicitly grouped: the accelerator picks the group size).</param>
    /// <param name="keys">[tokens, width] key rows.</param>
    /// <param name="width">Channels per key.</param>
    /// <param name="scores">[tokens] the scores.</param>
    public static void Kernel(Index1D token, ArrayView<float> keys, int width, ArrayView<float> scores)
    {
        long row = (long)token.X * width;
        double sum = 0;
        for (int c = 0; c < width; c++)
        {
            float v = keys[row + c];
            sum += v * v;
        }
        scores[token] = -(float)XMath.Sqrt(sum);
    }
}
