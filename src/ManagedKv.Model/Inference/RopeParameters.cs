using ManagedKv.Model.Config;

namespace ManagedKv.Model.Inference;

/// <summary>
/// Everything RoPE needs, resolved from the model config: rotated dimensions, base, linear scale and the
/// optional per-frequency divisors (Llama-3 scaling, llama.cpp's <c>rope_freqs</c> tensor).
/// </summary>
public sealed record RopeParameters(RopeStyle Style, int Dimensions, float FreqBase, float FreqScale, float[]? FreqFactors)
{
    /// <summary>
    /// Resolves RoPE for a model: linear scaling becomes freq_scale = 1/factor; frequency divisors come from
    /// the GGUF <c>rope_freqs</c> tensor when present, otherwise from Llama-3 scaling parameters computed
    /// exactly as llama.cpp's converter computes that tensor.
    /// </summary>
    public static RopeParameters For(ModelConfig config, float[]? freqFactorsTensor)
    {
        float scale = config.RopeScaling is RopeScaling.Linear linear ? 1.0f / linear.Factor : 1.0f;
        float[]? factors = freqFactorsTensor;
        if (factors is null && config.RopeScaling is RopeScaling.Llama3 l3)
            factors = Llama3Factors(config.RopeFreqBase, config.RopeDimensionCount, l3);
        return new RopeParameters(config.RopeStyle, config.RopeDimensionCount, config.RopeFreqBase, scale, factors);
    }

    /// <summary>Llama-3 per-frequency divisors (convert_hf_to_gguf.py's generate_extra_tensors, in double then f32).</summary>
    public static float[] Llama3Factors(float freqBase, int dims, RopeScaling.Llama3 s)
    {
        double lowWavelength = s.OriginalContextLength / (double)s.LowFreqFactor;
        double highWavelength = s.OriginalContextLength / (double)s.HighFreqFactor;
        var factors = new float[dims / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double freq = 1.0 / Math.Pow(freqBase, 2.0 * i / dims);
            double wavelength = 2 * Math.PI / freq;
            if (wavelength < highWavelength) factors[i] = 1;
            else if (wavelength > lowWavelength) factors[i] = s.Factor;
            else
            {
                double smooth = (s.OriginalContextLength / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(1 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }

    /// <summary>
    /// Writes cos/sin for position <paramref name="position"/> into <paramref name="cos"/> and <paramref name="sin"/>
    /// ([Dimensions/2] each), computing theta exactly as ggml does (theta multiplied by
    /// base^(−2/d) step by step in f32, then divided by the frequency factor and scaled), so angles match
    /// llama.cpp bit for bit at long positions too.
    /// </summary>
    public void Angles(int position, Span<float> cos, Span<float> sin)
    {
        float thetaScale = MathF.Pow(FreqBase, -2.0f / Dimensions);
        float theta = position;
        for (int i = 0; i < Dimensions / 2; i++)
        {
            float factor = FreqFactors is null ? 1.0f : FreqFactors[i];
            float angle = FreqScale * (theta / factor);
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
            theta *= thetaScale;
        }
    }

    /// <summary>Rotates one head vector in place with precomputed angles.</summary>
    public void Rotate(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = Dimensions / 2;
        for (int i = 0; i < half; i++)
        {
            int a = Style == RopeStyle.Norm ? 2 * i : i;
            int b = Style == RopeStyle.Norm ? 2 * i + 1 : i + half;
            float x0 = head[a], x1 = head[b];
            head[a] = x0 * cos[i] - x1 * sin[i];
            head[b] = x0 * sin[i] + x1 * cos[i];
        }
    }
}
