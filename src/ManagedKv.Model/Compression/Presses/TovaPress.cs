using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// TOVA (Token Omission Via Attention): keep the tokens the newest query attends to most, its probabilities averaged
/// over all the layer's query heads, so every KV head keeps the same tokens. Oren et al., "Transformers are
/// Multi-State RNNs", 2024 (arXiv:2401.06104); kvpress's TOVAPress for the prefill. No parameters beyond the budget.
/// <para>
/// Prefill: the last prompt query's attention, averaged over heads; keeps int(n·(1 − ratio)) tokens (or the token
/// budget). Decoding: a fixed-size cache (<see cref="DecodeCapacity"/>): after each step, a head over its capacity
/// drops its lowest-scored tokens by the new query's attention. As kvpress, the newest token is always kept (kvpress
/// pads it with the maximum score; its own attention is usually the highest anyway). When the layer's KV heads no
/// longer hold the same tokens (another press evicted per head), the average is taken over each KV head's GQA
/// group instead, the only heads whose probabilities index its tokens.
/// </para>
/// </summary>
public sealed class TovaPress : ScorerPress
{
    private readonly DecodeCapacity _capacity = new();

    /// <summary>Creates the press (the newest token always kept).</summary>
    public TovaPress() => RecentWindow = 1;

    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("tova",
        "keep the tokens the newest query attends to most, averaged over the layer's heads (prefill and decode; fixed-size cache while decoding)",
        "Oren et al., 2024, arXiv:2401.06104",
        [],
        a => new TovaPress { Budget = a.Budget });

    /// <inheritdoc/>
    public override string Name => "tova";

    /// <summary>Tokens each KV head of <paramref name="layer"/> may hold while decoding (null: unbounded).</summary>
    public int? DecodeCapacity(int layer) => _capacity.Capacity(Budget, layer);

    /// <inheritdoc/>
    /// <remarks>The last query of every call.</remarks>
    public override int? AttentionQueryStart(CompressionPhase phase, int layer, PositionRange call) => call.End - 1;

    /// <inheritdoc/>
    public override KvPlan? CompressPrefill(PressContext context)
    {
        var plan = (KeepPlan?)base.CompressPrefill(context);
        int kept = 0;
        for (int h = 0; h < context.Cache.KvHeadCount; h++)
            kept = Math.Max(kept, plan?.KeepPerHead[h].Length ?? context.Head(h).Count);
        _capacity.RememberPrefill(context.Layer, kept);
        return plan;
    }

    /// <inheritdoc/>
    public override KvPlan? CompressDecode(PressContext context) => base.CompressPrefill(context);

    /// <inheritdoc/>
    protected override int KeepCount(PressContext context, int tokens) => context.Phase == CompressionPhase.Decode
        ? Math.Min(tokens, _capacity.Capacity(Budget, context.Layer) ?? tokens)
        : Budget.KeepCount(tokens);

    /// <inheritdoc/>
    public override void Score(PressContext context, int kvHead, Span<float> scores)
    {
        var statistics = context.RequireStatistics(Name);
        if (AttentionScores.HeadsAligned(context))
            AttentionScores.MeanOverHeads(context, statistics, 0, statistics.QueryHeadCount, scores);
        else
        {
            int group = AttentionScores.GroupSize(statistics, context);
            AttentionScores.MeanOverHeads(context, statistics, kvHead * group, group, scores);
        }
    }
}
