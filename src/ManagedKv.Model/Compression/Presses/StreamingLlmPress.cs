namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// StreamingLLM: keep the first <c>sinks</c> tokens (attention sinks) and the most recent ones, drop the middle.
/// Xiao et al., "Efficient Streaming Language Models with Attention Sinks", ICLR 2024 (arXiv:2309.17453).
/// Keys keep their original RoPE positions (kvpress's default; no re-rotation).
/// </summary>
public sealed class StreamingLlmPress : ScorerPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("streaming_llm", "attention sinks + recent window", "Xiao et al., ICLR 2024, arXiv:2309.17453",
        [new("sinks", "int", "4", "leading tokens always kept"), .. HeadBudgetParameters, .. LayerBudgetParameters],
        a => new StreamingLlmPress { Budget = a.Budget, Sinks = a.Int("sinks") });

    /// <inheritdoc/>
    public override string Name => "streaming_llm";

    /// <inheritdoc/>
    public override void Score(PressContext context, int kvHead, Span<float> scores)
    {
        // Later tokens score higher, so the top-k beyond the sinks is exactly the recent window.
        for (int i = 0; i < scores.Length; i++) scores[i] = i;
    }
}
