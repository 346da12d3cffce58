namespace ManagedKv.Model.Sampling;

/// <summary>
/// Sampling settings, with llama.cpp's defaults. A temperature ≤ 0 means greedy (argmax, first maximum wins).
/// The chain runs as llama.cpp's default: repetition penalty → top-k → top-p → min-p → temperature → draw.
/// </summary>
public sealed record SamplerOptions
{
    /// <summary>Softmax temperature; ≤ 0 selects greedy decoding.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens (≤ 0: all).</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set whose probability reaches p (1: all).</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens below min_p × the top probability (0: none).</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Divide positive logits (multiply negative ones) of recently seen tokens by this (1: off).</summary>
    public float RepeatPenalty { get; init; } = 1.0f;

    /// <summary>How many recent tokens the repetition penalty looks at.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>Seed of the random draw; the same seed gives the same tokens.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Greedy decoding.</summary>
    public static SamplerOptions Greedy { get; } = new() { Temperature = 0 };
}
