namespace ManagedKv.Model.Inference;

/// <summary>Which elements RoPE rotates together.</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (x[2i], x[2i+1]): llama.cpp's NORM, used by llama/mistral GGUFs.</summary>
    Norm,
    /// <summary>Half-split pairs (x[i], x[i + d/2]): GPT-NeoX style, used by qwen2 and raw HF llama weights.</summary>
    Neox,
}

/// <summary>
/// Everything RoPE needs, resolved from the model config: rotated dimensions, base, linear scale and the
/// optional per-frequency divisors (Llama-3 scaling, llama.cpp's <c>rope_freqs</c> tensor).
/// </summary>
public sealed record RopeParameters(RopeStyle Style, int Dimensions, float FreqBase, float FreqScale, float[]? FreqFactors)
{
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
