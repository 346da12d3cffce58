using System.Runtime.Intrinsics;
using ManagedKv.Model.Cache;

namespace ManagedKv.Cpu.Presses;

/// <summary>
/// KNorm's score, −‖k‖₂ per token, vectorised over tokens: eight tokens per step, each lane squaring its key's
/// channels in float and adding them in double in channel order, then a double square root rounded to float, exactly
/// the scalar <see cref="Model.Compression.Presses.KnormPress.Score"/>'s operations per token, so the scores are
/// bit-identical.
/// </summary>
internal static class KnormKernel
{
    /// <summary>scores[t] = −‖key t‖₂ for the first scores.Length keys.</summary>
    public static void Score(KvRows keys, Span<float> scores, ref float[] buffer)
    {
        int n = scores.Length, width = keys.Width;
        if (n == 0) return;
        var data = KvRowsAccess.Rows(keys, 0, n, ref buffer);
        const int lanes = 8;
        for (int t = 0; t < n; t += lanes)
        {
            // A partial last block repeats its last token in the spare lanes; only the valid lanes are stored.
            int r0 = Row(t, n), r1 = Row(t + 1, n), r2 = Row(t + 2, n), r3 = Row(t + 3, n);
            int r4 = Row(t + 4, n), r5 = Row(t + 5, n), r6 = Row(t + 6, n), r7 = Row(t + 7, n);
            Vector256<double> lower = Vector256<double>.Zero, upper = Vector256<double>.Zero;
            for (int c = 0; c < width; c++)
            {
                var x = Vector256.Create(data[r0 * width + c], data[r1 * width + c], data[r2 * width + c], data[r3 * width + c],
                    data[r4 * width + c], data[r5 * width + c], data[r6 * width + c], data[r7 * width + c]);
                var squares = x * x;
                lower += Vector256.WidenLower(squares);
                upper += Vector256.WidenUpper(squares);
            }
            var norms = -Vector256.Narrow(Vector256.Sqrt(lower), Vector256.Sqrt(upper));
            if (t + lanes <= n) norms.CopyTo(scores[t..]);
            else for (int k = 0; k < n - t; k++) scores[t + k] = norms[k];
        }
    }

    private static int Row(int t, int n) => Math.Min(t, n - 1);
}
