namespace ManagedKv.Model.Compression;

/// <summary>
/// Base of every eviction method that ranks tokens by a score (kvpress's ScorerPress): subclasses implement
/// only <see cref="Score"/>; this class does budgets, sinks, recent windows and the top-k per KV head
/// (ties to the lower position) through <see cref="TokenSelection"/>.
/// </summary>
public abstract class ScorerPress : IKvPress
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <summary>How many tokens to keep.</summary>
    public CompressionBudget Budget { get; init; } = new();

    /// <summary>Leading tokens always kept (attention sinks).</summary>
    public int Sinks { get; init; }

    /// <summary>Trailing tokens always kept.</summary>
    public int RecentWindow { get; init; }

    /// <summary>
    /// Writes one score per token of KV head <paramref name="kvHead"/> (higher = keep), [head.Count]. This scalar
    /// code is the oracle; a backend may supply a faster kernel through <see cref="IPressScoring"/>, which must
    /// give the same plan.
    /// </summary>
    public abstract void Score(PressContext context, int kvHead, Span<float> scores);

    /// <summary>Tokens to keep in a head of <paramref name="tokens"/> tokens at this layer.</summary>
    protected virtual int KeepCount(PressContext context, int tokens) => Budget.KeepCount(tokens, context.Layer);

    /// <summary>Whether this layer is compressed at all (e.g. KNorm skips layers 0–1).</summary>
    protected virtual bool CompressesLayer(int layer) => true;

    /// <inheritdoc/>
    public virtual int? AttentionQueryStart(CompressionPhase phase, int layer, Inference.PositionRange call) => null;

    /// <inheritdoc/>
    public virtual KvPlan? CompressDecode(PressContext context) => null;

    /// <summary>
    /// The parameters every scorer press's descriptor lists (after its own): how the layer's budget is split between
    /// its KV heads. <see cref="PressArguments.Budget"/> folds them into the <see cref="CompressionBudget"/>.
    /// </summary>
    public static IReadOnlyList<PressParameter> HeadBudgetParameters { get; } =
    [
        new("head_budget", "uniform|adaptive", "uniform",
            "uniform: every KV head keeps its own budget; adaptive: AdaKV (Feng et al. 2024, arXiv:2407.11550), heads keep alpha_safeguard of their share and the rest of the layer's budget goes to the best scores across heads (ragged cache, really smaller)"),
        new("alpha_safeguard", "double", "0.2", "head_budget=adaptive: fraction in [0, 1] of its even share every head keeps"),
    ];

    /// <summary>
    /// The per-layer budget parameter of scorer presses that use the base class's budget (not PyramidKV, whose
    /// pyramid is its per-layer budget): <see cref="CompressionBudget.LayerCompression"/>.
    /// </summary>
    public static IReadOnlyList<PressParameter> LayerBudgetParameters { get; } =
    [
        new("layer_compression", "double list", "",
            "per-layer compression ratios, comma-separated, one per layer (kvpress PerLayerCompressionPress); replaces --compression; empty: --compression for every layer"),
    ];

    /// <inheritdoc/>
    public virtual KvPlan? CompressPrefill(PressContext context)
    {
        if (!CompressesLayer(context.Layer)) return null;
        int heads = context.Cache.KvHeadCount;
        if (Budget.HeadBudget == HeadBudget.Adaptive) return CompressAdaptive(context, heads);
        var keep = new int[heads][];
        bool changes = false;
        float[] scores = [];
        for (int h = 0; h < heads; h++)
        {
            int n = context.Head(h).Count;
            int target = KeepCount(context, n);
            if (target >= n)
            {
                keep[h] = Enumerable.Range(0, n).ToArray();
                continue;
            }
            if (scores.Length < n) scores = new float[n];
            ScoreHead(context, h, scores.AsSpan(0, n));
            keep[h] = TokenSelection.Select(scores.AsSpan(0, n), target, Sinks, RecentWindow);
            changes |= keep[h].Length < n;
        }
        return changes ? new KeepPlan(context.Layer, keep) : null;
    }

    /// <summary>AdaKV: every head scored, the layer's budget shared through <see cref="TokenSelection.SelectAcrossHeads"/>.</summary>
    private KeepPlan? CompressAdaptive(PressContext context, int heads)
    {
        var targets = new int[heads];
        bool compresses = false;
        for (int h = 0; h < heads; h++)
        {
            int n = context.Head(h).Count;
            targets[h] = KeepCount(context, n);
            compresses |= targets[h] < n;
        }
        if (!compresses) return null;
        var scores = new ReadOnlyMemory<float>[heads];
        for (int h = 0; h < heads; h++)
        {
            var buffer = new float[context.Head(h).Count];
            ScoreHead(context, h, buffer);
            scores[h] = buffer;
        }
        var keep = TokenSelection.SelectAcrossHeads(scores, targets, Budget.AlphaSafeguard, Sinks, RecentWindow);
        for (int h = 0; h < heads; h++)
            if (keep[h].Length < scores[h].Length) return new KeepPlan(context.Layer, keep);
        return null;
    }

    /// <summary>Scores a head with the backend's kernel when it has one, else with <see cref="Score"/> (the oracle).</summary>
    private void ScoreHead(PressContext context, int kvHead, Span<float> scores)
    {
        if (context.Backend is not IPressScoring fast || !fast.TryScore(this, context, kvHead, scores))
            Score(context, kvHead, scores);
    }
}
