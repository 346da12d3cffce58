namespace ManagedKv.Model.Compression;

/// <summary>
/// How many tokens a press keeps: a ratio (<see cref="Compression"/> = fraction removed, as kvpress) or an
/// absolute per-head token budget. Per-layer budgets (PyramidKV) override <see cref="ScorerPress.KeepCount"/>;
/// <see cref="HeadBudget"/> says whether a layer's budget is split evenly between its KV heads or adaptively (AdaKV).
/// </summary>
public sealed record CompressionBudget
{
    /// <summary>Fraction of tokens removed, in [0, 1).</summary>
    public double Compression { get; init; }

    /// <summary>When set, keep at most this many tokens per head instead of using the ratio.</summary>
    public int? TokenBudget { get; init; }

    /// <summary>How a scoring press splits a layer's budget between its KV heads (default: each head its own).</summary>
    public HeadBudget HeadBudget { get; init; }

    /// <summary>
    /// With <see cref="Compression.HeadBudget.Adaptive"/>: the fraction α in [0, 1] of its own budget every head keeps
    /// whatever the other heads score (AdaKV's safeguard, 0.2 as kvpress's <c>alpha_safeguard</c>).
    /// </summary>
    public double AlphaSafeguard { get; init; } = 0.2;

    /// <summary>
    /// Per-layer ratios (kvpress's PerLayerCompressionPress): layer l removes the fraction LayerCompression[l] instead
    /// of <see cref="Compression"/>, one entry per layer. Scoring presses read it through
    /// <see cref="KeepCount(int, int)"/>; null: every layer uses <see cref="Compression"/>.
    /// </summary>
    public IReadOnlyList<double>? LayerCompression { get; init; }

    /// <summary>Tokens to keep out of <paramref name="tokens"/> in <paramref name="layer"/>: its own ratio when
    /// <see cref="LayerCompression"/> is set, else <see cref="KeepCount(int)"/>.</summary>
    /// <exception cref="InvalidOperationException">The per-layer ratios have no entry for <paramref name="layer"/>.</exception>
    public int KeepCount(int tokens, int layer)
    {
        if (LayerCompression is not { } ratios) return KeepCount(tokens);
        if ((uint)layer >= (uint)ratios.Count)
            throw new InvalidOperationException($"layer_compression gives {ratios.Count} ratios but layer {layer} needs one (give one ratio per layer)");
        return (int)(tokens * (1.0 - ratios[layer]));
    }

    /// <summary>Tokens to keep out of <paramref name="tokens"/> (kvpress: int(n·(1 − ratio))).</summary>
    public int KeepCount(int tokens) =>
        TokenBudget is { } budget ? Math.Min(tokens, budget) : (int)(tokens * (1.0 - Compression));

    /// <summary>Checks the values.</summary>
    public void Validate()
    {
        if (!(Compression >= 0 && Compression < 1)) throw new ArgumentOutOfRangeException(nameof(Compression), Compression, "compression must be in [0, 1)");
        if (!(AlphaSafeguard >= 0 && AlphaSafeguard <= 1)) throw new ArgumentOutOfRangeException(nameof(AlphaSafeguard), AlphaSafeguard, "alpha_safeguard must be in [0, 1]");
        if (!Enum.IsDefined(HeadBudget)) throw new ArgumentOutOfRangeException(nameof(HeadBudget), HeadBudget, "unknown head budget");
        if (LayerCompression is { } ratios)
        {
            if (TokenBudget is not null) throw new ArgumentException("layer_compression replaces the compression ratio; it cannot be combined with a token budget");
            foreach (double r in ratios)
                if (!(r >= 0 && r < 1)) throw new ArgumentOutOfRangeException(nameof(LayerCompression), r, "every layer_compression ratio must be in [0, 1)");
        }
        if (TokenBudget is < 0) throw new ArgumentOutOfRangeException(nameof(TokenBudget), TokenBudget, "token budget must be ≥ 0");
    }
}
