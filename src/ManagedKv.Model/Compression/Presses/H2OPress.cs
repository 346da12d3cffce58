using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// H2O (Heavy-Hitter Oracle): keep the tokens that have received the most attention so far (the heavy hitters) plus
/// the most recent ones. Zhang et al., "H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language
/// Models", NeurIPS 2023 (arXiv:2306.14048). Parameters: <c>recent</c>, <c>normalize</c>.
/// <para>
/// Score. The press keeps, per layer and KV head, an accumulator S_i per held token: every forward call (prefill or
/// decode step) adds the attention probability the call's queries gave token i, averaged over the KV head's GQA
/// group. With <c>normalize</c> (the default) the score is S_i / N_i, N_i the number of queries that have attended
/// to token i (all positions from max(p_i, first tracked query) up to the newest), which in a single prefill is
/// kvpress ObservedAttentionPress's <c>sum_q attn / (n − i)</c>; without it the score is H2O's raw sum S_i.
/// </para>
/// <para>
/// Budget. Each head keeps k tokens: the last int(k·<c>recent</c>) tokens (the recent window; H2O splits its budget
/// evenly, <c>recent</c> = 0.5, as longctx_bench's heavy_ratio = recent_ratio) and the k − int(k·recent) highest
/// scores among the rest, ties to the lower position. Prefill: k = int(n·(1 − ratio)) of the head's n tokens, or the
/// token budget. Decoding: k is the fixed cache size of <see cref="DecodeCapacity"/> (the prefill's kept count, or
/// the token budget): the accumulators are updated every step and a head over k evicts its lowest-scoring token
/// outside the window, so the cache does not grow. Compression 0 never evicts.
/// </para>
/// <para>
/// The press holds per-layer state, so one instance serves one session. The state follows the press's own
/// evictions; when the cache no longer holds the tokens the state describes (a reset session, another press
/// evicting), the layer's accumulators start over from the current call.
/// </para>
/// </summary>
public sealed class H2OPress : IKvPress
{
    private readonly CompressionBudget _budget = new();
    private readonly double _recent = 0.5;
    private readonly DecodeCapacity _capacity = new();
    private LayerState?[] _layers = [];  // [layers]
    private float[] _scores = [];        // [tokens] scratch: one head's scores
    private float[] _groupMean = [];     // [tokens] scratch: one head's attention averaged over its group

    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("h2o",
        "heavy hitters by accumulated attention + a recent window (prefill and decode; fixed-size cache while decoding)",
        "Zhang et al., NeurIPS 2023, arXiv:2306.14048",
        [
            new("recent", "double", "0.5", "fraction in [0, 1] of each head's kept tokens reserved for the most recent ones; the rest are heavy hitters"),
            new("normalize", "bool", "true", "score = accumulated attention / queries that saw the token (kvpress ObservedAttentionPress); false: H2O's raw sum"),
        ],
        a => new H2OPress { Budget = a.Budget, Recent = a.Double("recent"), Normalize = a.Bool("normalize") });

    /// <inheritdoc/>
    public string Name => "h2o";

    /// <summary>How many tokens to keep (see the class remarks for decoding).</summary>
    public CompressionBudget Budget
    {
        get => _budget;
        init { ArgumentNullException.ThrowIfNull(value); value.Validate(); _budget = value; }
    }

    /// <summary>Fraction of each head's kept tokens that are the most recent ones, in [0, 1].</summary>
    public double Recent
    {
        get => _recent;
        init
        {
            if (!(value >= 0 && value <= 1)) throw new ArgumentOutOfRangeException(nameof(Recent), value, "recent must be a fraction in [0, 1]");
            _recent = value;
        }
    }

    /// <summary>Whether scores are divided by the number of queries that saw the token.</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Tokens each KV head of <paramref name="layer"/> may hold while decoding (null: unbounded).</summary>
    public int? DecodeCapacity(int layer) => _capacity.Capacity(_budget, layer);

    /// <summary>
    /// The accumulated attention S_i of the tokens <paramref name="kvHead"/> of <paramref name="layer"/> holds, in
    /// cache order (empty before the layer was seen).
    /// </summary>
    public ReadOnlySpan<double> AccumulatedAttention(int layer, int kvHead) =>
        layer < _layers.Length && _layers[layer] is { } state ? state.Sums[kvHead].AsSpan(0, state.Counts[kvHead]) : [];

    /// <inheritdoc/>
    /// <remarks>Every query of every call.</remarks>
    public int? AttentionQueryStart(CompressionPhase phase, int layer, PositionRange call) => call.Start;

    /// <inheritdoc/>
    public KvPlan? CompressPrefill(PressContext context) => Compress(context);

    /// <inheritdoc/>
    public KvPlan? CompressDecode(PressContext context) => Compress(context);

    private KeepPlan? Compress(PressContext context)
    {
        var statistics = context.RequireStatistics(Name);
        var state = Accumulate(context, statistics);
        bool prefill = context.Phase == CompressionPhase.Prefill;
        int heads = context.Cache.KvHeadCount;
        int? capacity = prefill ? null : _capacity.Capacity(_budget, context.Layer);
        int[][]? plan = null;
        int keptMost = 0;
        for (int h = 0; h < heads; h++)
        {
            var positions = context.Head(h).Positions;
            int n = positions.Length;
            int keep = Math.Min(n, prefill ? _budget.KeepCount(n) : capacity ?? n);
            keptMost = Math.Max(keptMost, keep);
            if (keep >= n) continue;

            var scores = Scratch(ref _scores, n);
            var sums = state.Sums[h];
            int end = statistics.Queries.End;
            for (int i = 0; i < n; i++)
                scores[i] = Normalize ? (float)(sums[i] / (end - Math.Max(positions[i], state.TrackedFrom))) : (float)sums[i];
            var kept = TokenSelection.Select(scores, keep, sinks: 0, recent: (int)(keep * _recent));
            state.Keep(h, kept);
            plan ??= new int[heads][];
            plan[h] = kept;
        }
        if (prefill) _capacity.RememberPrefill(context.Layer, keptMost);
        if (plan is null) return null;
        for (int h = 0; h < heads; h++) plan[h] ??= Enumerable.Range(0, context.Head(h).Count).ToArray();
        return new KeepPlan(context.Layer, plan);
    }

    /// <summary>
    /// Brings the layer's accumulators up to date with this call: checks they still describe the cache (else starts
    /// over), appends zeroed entries for the call's new tokens, and adds the call's group-averaged attention.
    /// </summary>
    private LayerState Accumulate(PressContext context, AttentionStatistics statistics)
    {
        int layer = context.Layer, heads = context.Cache.KvHeadCount;
        if (_layers.Length != context.Cache.LayerCount) _layers = new LayerState?[context.Cache.LayerCount];
        var state = _layers[layer] ??= new LayerState(heads, statistics.Queries.Start);
        if (!state.Describes(context, statistics.Call.Start)) state.Restart(statistics.Queries.Start);

        int group = AttentionScores.GroupSize(statistics, context);
        for (int h = 0; h < heads; h++)
        {
            var positions = context.Head(h).Positions;
            state.Extend(h, positions);
            var mean = Scratch(ref _groupMean, positions.Length);
            AttentionScores.MeanOverHeads(context, statistics, h * group, group, mean);
            var sums = state.Sums[h];
            for (int i = 0; i < mean.Length; i++) sums[i] += mean[i];
        }
        return state;
    }

    private static Span<float> Scratch(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new float[Math.Max(length, buffer.Length * 2)];
        return buffer.AsSpan(0, length);
    }

    /// <summary>One layer's accumulators, aligned with its KV heads' token lists.</summary>
    private sealed class LayerState(int heads, int trackedFrom)
    {
        public double[][] Sums { get; } = Enumerable.Range(0, heads).Select(_ => Array.Empty<double>()).ToArray(); // [kvHeads][capacity] S_i
        public int[][] Positions { get; } = Enumerable.Range(0, heads).Select(_ => Array.Empty<int>()).ToArray();  // [kvHeads][capacity] p_i
        public int[] Counts { get; } = new int[heads];                                                          // [kvHeads] tracked tokens

        /// <summary>Position of the first query whose attention was accumulated.</summary>
        public int TrackedFrom { get; private set; } = trackedFrom;

        /// <summary>
        /// Whether every head still holds the tracked tokens first, all of them from before this call, followed only
        /// by tokens this call appended (a cleared and refilled cache fails: its tokens are not before the call).
        /// </summary>
        public bool Describes(PressContext context, int callStart)
        {
            for (int h = 0; h < Counts.Length; h++)
            {
                var held = context.Head(h).Positions;
                int tracked = Counts[h];
                if (tracked > held.Length || !held[..tracked].SequenceEqual(Positions[h].AsSpan(0, tracked))) return false;
                if (tracked > 0 && Positions[h][tracked - 1] >= callStart) return false;
                if (tracked < held.Length && held[tracked] < callStart) return false;
            }
            return true;
        }

        /// <summary>Forgets every token; accumulation restarts with the query at <paramref name="trackedFrom"/>.</summary>
        public void Restart(int trackedFrom)
        {
            Array.Clear(Counts);
            TrackedFrom = trackedFrom;
        }

        /// <summary>Appends zeroed accumulators for the head's tokens beyond the tracked ones.</summary>
        public void Extend(int head, ReadOnlySpan<int> held)
        {
            int tracked = Counts[head];
            if (Sums[head].Length < held.Length)
            {
                int size = Math.Max(held.Length, Sums[head].Length * 2);
                Array.Resize(ref Sums[head], size);
                Array.Resize(ref Positions[head], size);
            }
            Sums[head].AsSpan(tracked, held.Length - tracked).Clear();
            held[tracked..].CopyTo(Positions[head].AsSpan(tracked));
            Counts[head] = held.Length;
        }

        /// <summary>Keeps the accumulators of the kept tokens, in order (the press's own eviction).</summary>
        public void Keep(int head, int[] kept)
        {
            var sums = Sums[head];
            var positions = Positions[head];
            for (int k = 0; k < kept.Length; k++)
            {
                sums[k] = sums[kept[k]];
                positions[k] = positions[kept[k]];
            }
            Counts[head] = kept.Length;
        }
    }
}
