namespace ManagedKv.Model.Config;

/// <summary>
/// How rotary frequencies are stretched for contexts longer than the model was trained on:
/// <see cref="None"/>, <see cref="Linear"/> (positions divided by a factor) or <see cref="Llama3"/>
/// (Llama 3.1's per-frequency blend). A closed hierarchy: the three cases are the only subtypes.
/// </summary>
public abstract record RopeScaling
{
    private RopeScaling() { }

    /// <summary>No scaling.</summary>
    public static RopeScaling None { get; } = new NoScaling();

    /// <summary>The "no scaling" case.</summary>
    public sealed record NoScaling : RopeScaling
    {
        /// <inheritdoc/>
        public override string ToString() => "none";
    }

    /// <summary>Linear (position-interpolation) scaling: every frequency is divided by <paramref name="Factor"/>.</summary>
    /// <param name="Factor">The scale factor (&gt; 0); llama.cpp stores its inverse as rope_freq_scale.</param>
    public sealed record Linear(float Factor) : RopeScaling
    {
        /// <inheritdoc/>
        public override string ToString() => $"linear(factor {Factor})";
    }

    /// <summary>
    /// Llama 3.1 scaling: wavelengths shorter than original_context / high_freq_factor are kept,
    /// those longer than original_context / low_freq_factor are divided by <paramref name="Factor"/>, and
    /// the band in between is blended smoothly.
    /// </summary>
    /// <param name="Factor">Scale for low frequencies (e.g. 8 or 32).</param>
    /// <param name="LowFreqFactor">Low-frequency boundary factor (e.g. 1).</param>
    /// <param name="HighFreqFactor">High-frequency boundary factor (e.g. 4).</param>
    /// <param name="OriginalContextLength">Context length the model was pretrained with (e.g. 8192).</param>
    public sealed record Llama3(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalContextLength) : RopeScaling
    {
        /// <inheritdoc/>
        public override string ToString() =>
            $"llama3(factor {Factor}, low {LowFreqFactor}, high {HighFreqFactor}, original context {OriginalContextLength})";
    }

    /// <summary>
    /// Checks the parameters; <paramref name="error"/> builds the exception for a bad one (given the
    /// parameter's name and the problem).
    /// </summary>
    internal void Validate(Func<string, string, Exception> error)
    {
        switch (this)
        {
            case Linear l:
                if (!(float.IsFinite(l.Factor) && l.Factor > 0)) throw error("factor", $"must be a positive number, found {l.Factor}");
                break;
            case Llama3 s:
                if (!(float.IsFinite(s.Factor) && s.Factor > 0)) throw error("factor", $"must be a positive number, found {s.Factor}");
                if (!(float.IsFinite(s.LowFreqFactor) && s.LowFreqFactor > 0)) throw error("low_freq_factor", $"must be a positive number, found {s.LowFreqFactor}");
                if (!(float.IsFinite(s.HighFreqFactor) && s.HighFreqFactor > s.LowFreqFactor))
                    throw error("high_freq_factor", $"must be greater than low_freq_factor {s.LowFreqFactor}, found {s.HighFreqFactor}");
                if (s.OriginalContextLength <= 0) throw error("original_context_length", $"must be positive, found {s.OriginalContextLength}");
                break;
        }
    }
}
