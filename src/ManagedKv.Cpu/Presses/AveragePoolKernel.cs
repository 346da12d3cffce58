using System.Runtime.Intrinsics;
using ManagedKv.Model.Compression;

namespace ManagedKv.Cpu.Presses;

/// <summary>
/// SnapKV/PyramidKV's 1-D average pooling (stride 1, zero padding kernel/2, divided by the kernel), vectorised over
/// outputs: for the outputs whose window lies inside the input, eight at a time, each lane adds its window's inputs
/// in double in index order, as the scalar <see cref="AttentionScores.PoolAt"/> does; the edge outputs (windows
/// reaching into the padding) use the scalar code itself. Bit-identical to
/// <see cref="AttentionScores.AveragePool(ReadOnlySpan{float}, int, Span{float})"/>.
/// </summary>
internal static class AveragePoolKernel
{
    /// <summary>output[i] = Σ_{|d| ≤ kernel/2} input[i + d] / kernel (out-of-range inputs read as 0).</summary>
    public static void AveragePool(ReadOnlySpan<float> input, int kernel, Span<float> output)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "the pooling kernel must be odd and ≥ 1");
        if (output.Length != input.Length) throw new ArgumentException($"output holds {output.Length} values; the input {input.Length}", nameof(output));
        int n = input.Length, half = kernel / 2;
        int i = 0;
        for (; i < Math.Min(half, n); i++) output[i] = AttentionScores.PoolAt(input, kernel, i);
        var divisor = Vector256.Create((double)kernel);
        for (; i + Vector256<float>.Count + half <= n; i += Vector256<float>.Count)
        {
            Vector256<double> lower = Vector256<double>.Zero, upper = Vector256<double>.Zero;
            for (int d = -half; d <= half; d++)
            {
                var x = Vector256.Create(input.Slice(i + d, Vector256<float>.Count));
                lower += Vector256.WidenLower(x);
                upper += Vector256.WidenUpper(x);
            }
            Vector256.Narrow(lower / divisor, upper / divisor).CopyTo(output[i..]);
        }
        for (; i < n; i++) output[i] = AttentionScores.PoolAt(input, kernel, i);
    }
}
