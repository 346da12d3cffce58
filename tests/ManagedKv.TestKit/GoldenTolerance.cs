using ManagedKv.Gguf;

namespace ManagedKv.TestKit;

/// <summary>
/// How close our final-position logits must be to llama.cpp's <c>f32_attention</c> logits, as a fraction of the
/// golden logits' range (max − min). Justification:
/// <list type="bullet">
/// <item>All-F32 models: both engines compute the same f32 operations and differ only in summation order
/// (SIMD lanes, blocking), which moves results by a few ulps per op; 1e-4 × range is ~100× that noise.</item>
/// <item>F16/BF16 weights: the activation is rounded to F16/BF16 exactly as llama.cpp does; the remaining
/// differences are summation order, but a one-ulp change upstream can flip an activation's rounding, a step
/// of 2^-11 (F16) or 2^-8 (BF16) relative: 1e-3 × range.</item>
/// <item>Quantised weights: activations are quantised to Q8 blocks as llama.cpp does; a flipped rounding of
/// one 8-bit code moves a dot product by one quantisation step; 1e-3 × range (the bound).</item>
/// </list>
/// </summary>
public static class GoldenTolerance
{
    /// <summary>Relative tolerance for a model whose weight matrices are all F32, or any lower precision.</summary>
    public static double ForModel(IEnumerable<string> weightTypes) =>
        weightTypes.All(t => t == nameof(GgmlType.F32)) ? 1e-4 : 1e-3;
}
