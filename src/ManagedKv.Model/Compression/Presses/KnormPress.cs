namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// KNorm: keep the tokens whose keys have the lowest L2 norm (score = −‖k‖₂).
/// Devoto et al., "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression", EMNLP 2024
/// (arXiv:2406.11430). The paper leaves layers 0–1 uncompressed; <c>skip_layers</c> sets how many.
/// </summary>
public sealed class KnormPress : ScorerPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("knorm", "keep tokens with the lowest key L2 norm", "Devoto et al., EMNLP 2024, arXiv:2406.11430",
        [new("skip_layers", "int", "2", "leading layers left uncompressed (the paper skips 0 and 1)"), .. HeadBudgetParameters, .. LayerBudgetParameters],
        a => new KnormPress { Budget = a.Budget, SkipLayers = a.Int("skip_layers") });

    /// <inheritdoc/>
    public override string Name => "knorm";

    /// <summary>Leading layers that are not compressed.</summary>
    public int SkipLayers { get; init; } = 2;

    /// <inheritdoc/>
    protected override bool CompressesLayer(int layer) => layer >= SkipLayers;

    /// <inheritdoc/>
    public override void Score(PressContext context, int kvHead, Span<float> scores)
    {
        var keys = context.Head(kvHead).Keys;
        Span<float> key = stackalloc float[keys.Width];
        for (int i = 0; i < scores.Length; i++)
        {
            keys.Read(i, key);
            double sum = 0;
            foreach (float v in key) sum += v * v;
            scores[i] = -(float)Math.Sqrt(sum);
        }
    }
}
