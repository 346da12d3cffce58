namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>How a text is cut into fidelity windows.</summary>
public sealed record FidelityOptions
{
    /// <summary>Tokens prefilled (and compressed) per window.</summary>
    public int ContextTokens { get; init; } = 256;

    /// <summary>Tokens scored teacher-forced after the compressed context.</summary>
    public int ContinuationTokens { get; init; } = 64;

    /// <summary>At most this many windows (0 = as many as the text holds).</summary>
    public int MaxWindows { get; init; } = 8;

    /// <summary>Tokens per window.</summary>
    public int WindowTokens => ContextTokens + ContinuationTokens;

    /// <summary>Checks the values against the model's context length.</summary>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public void Validate(int contextLength)
    {
        if (ContextTokens < 1) throw new ArgumentException($"context tokens must be ≥ 1, got {ContextTokens}");
        if (ContinuationTokens < 1) throw new ArgumentException($"continuation tokens must be ≥ 1, got {ContinuationTokens}");
        if (MaxWindows < 0) throw new ArgumentException($"windows must be ≥ 0, got {MaxWindows}");
        if (WindowTokens > contextLength)
            throw new ArgumentException($"a window of {ContextTokens} + {ContinuationTokens} tokens exceeds the context length {contextLength}");
    }
}
