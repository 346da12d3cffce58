using ManagedKv.Model.Evaluation.Results;

namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>One press setting's fidelity over every window.</summary>
/// <param name="Setting">The press setting.</param>
/// <param name="Windows">Windows aggregated.</param>
/// <param name="Tokens">Predictions scored.</param>
/// <param name="Perplexity">exp(mean NLL).</param>
/// <param name="KlDivergence">Mean KL(full ‖ compressed) per prediction, nats.</param>
/// <param name="Top1Agreement">Fraction of predictions whose most likely token equals the full cache's.</param>
/// <param name="EffectiveRatio">Kept cache bytes / full cache bytes after the prefill, summed over windows.</param>
/// <param name="FinalRatio">Kept cache bytes / full cache bytes at the end of the continuation, summed over windows.</param>
/// <param name="CacheBytes">Mean cache bytes per window after prefill.</param>
/// <param name="FullCacheBytes">Mean full-cache bytes per window.</param>
public sealed record FidelityRow(PressConfiguration Setting, int Windows, int Tokens, double Perplexity, double KlDivergence,
    double Top1Agreement, double EffectiveRatio, double FinalRatio, long CacheBytes, long FullCacheBytes);
