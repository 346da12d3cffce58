using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// LagKV: score each partition of <see cref="Lag"/> tokens against the per-channel min/max of the <em>next</em>
/// partition and keep the top int((1 − compression)·lag) tokens of every partition, per KV head.
/// Liang et al., "LagKV: Lag-Relative Information of the KV Cache Tells Which Tokens Are Important",
/// arXiv:2504.04704 (2025). Parameters: <c>sink</c> S, <c>lag</c> L, <c>score_v_ratio</c>, <c>skip_layers</c>,
/// <c>variant</c> (<see cref="LagKvVariant"/>), <c>cross_scoring</c> (kvpress variant only).
/// <para>
/// Reference variant, as the authors' code (<c>lag_kv.py</c>): each layer keeps a compressed length base_len
/// (starts at S). Whenever the uncompressed region [base_len, n) holds at least 2L tokens, in prefill or decoding,
/// it is cut into P = ⌊(n − base_len)/L⌋ full partitions plus a remainder; partitions 0…P−2 are scored
/// (<see cref="LagKvScoring.Score"/>) against their successor and each keeps its top k tokens; the last full
/// partition and the remainder (the tail) are kept whole, as is [0, base_len), which is never scored again.
/// base_len becomes base_len + (P−1)·k. After one prefill of Ls tokens every head holds
/// S + k(⌊(Ls−S)/L⌋ − 1) + L + (Ls−S mod L) tokens (the paper's Eq. 12), Ls itself when Ls &lt; S + 2L.
/// Stated deviations: a zero reference range normalises to 0 instead of dividing by zero; kept tokens stay in
/// position order (the reference stores them by score; attention does not depend on the order); ties keep the
/// lower position. The budget must be a ratio: the method keeps a fraction of each partition, not a token count.
/// </para>
/// <para>
/// The press holds per-layer state, so one instance serves one session (the runner calls it for every layer).
/// When the cache no longer holds what the state describes (the session was reset, or another press evicted
/// tokens), the layer starts over from base_len = S.
/// </para>
/// </summary>
public sealed class LagKvPress : IKvPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("lagkv",
        "score each lag partition against the next one's per-channel range, keep the top of each (prefill and decode; --compression only, except variant=kvpress)",
        "Liang et al., arXiv:2504.04704 (2025)",
        [
            new("sink", "int", "16", "leading tokens never compressed (attention sinks)"),
            new("lag", "int", "128", "partition size L; each partition is scored against the next, the last full one and the remainder are kept"),
            new("score_v_ratio", "double", "1.0", "weight of the value score: score = s_K + score_v_ratio·s_V (reference variant)"),
            new("skip_layers", "int", "0", "leading layers left uncompressed"),
            new("variant", "reference|kvpress", "reference",
                "reference: the authors' code, top-k per partition, prefill and decode; kvpress: NVIDIA kvpress's LagKVPress, rank-normalised global top-k, prefill only"),
            new("cross_scoring", "bool", "false", "kvpress variant: select on raw scores instead of per-partition ranks"),
        ],
        a => Checked(new LagKvPress
        {
            Budget = a.Budget,
            Sink = a.Int("sink"),
            Lag = a.Int("lag"),
            ScoreVRatio = a.Double("score_v_ratio"),
            SkipLayers = a.Int("skip_layers"),
            Variant = a.Choice("variant", "reference", "kvpress") == "kvpress" ? LagKvVariant.Kvpress : LagKvVariant.Reference,
            CrossScoring = a.Bool("cross_scoring"),
        }));

    private readonly int _sink = 16, _lag = 128, _skipLayers;
    private readonly double _scoreVRatio = 1.0;
    private readonly CompressionBudget _budget = new();
    private KvpressLagKvScorer? _kvpress;
    private int[] _compressedLength = [];  // [layers] base_len: leading tokens already compressed (never rescored)
    private int[] _boundaryPosition = [];  // [layers] position of token base_len − 1 in KV head 0, to detect a reset cache

    /// <inheritdoc/>
    public string Name => "lagkv";

    private static LagKvPress Checked(LagKvPress press) =>
        press.Variant == LagKvVariant.Reference && press.Budget.TokenBudget is not null
            ? throw new ArgumentException("press 'lagkv' keeps a fraction of each partition: give a compression ratio, not a token budget (or use variant=kvpress)")
            : press;

    /// <summary>
    /// The budget: <see cref="CompressionBudget.Compression"/> c gives the per-partition keep fraction 1 − c. A token
    /// budget is accepted by the kvpress variant only (its global top-k), and rejected when the reference variant runs.
    /// </summary>
    public CompressionBudget Budget
    {
        get => _budget;
        init { ArgumentNullException.ThrowIfNull(value); value.Validate(); _budget = value; }
    }

    /// <summary>Leading tokens never compressed (S).</summary>
    public int Sink
    {
        get => _sink;
        init { ArgumentOutOfRangeException.ThrowIfNegative(value); _sink = value; }
    }

    /// <summary>Partition size (L).</summary>
    public int Lag
    {
        get => _lag;
        init { ArgumentOutOfRangeException.ThrowIfLessThan(value, 1); _lag = value; }
    }

    /// <summary>Weight of the value score in s_K + ratio·s_V (reference variant; kvpress averages the two).</summary>
    public double ScoreVRatio
    {
        get => _scoreVRatio;
        init
        {
            if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(ScoreVRatio), value, "score_v_ratio must be finite");
            _scoreVRatio = value;
        }
    }

    /// <summary>Leading layers left uncompressed (the reference's <c>skip_layer_idx</c>, none by default).</summary>
    public int SkipLayers
    {
        get => _skipLayers;
        init { ArgumentOutOfRangeException.ThrowIfNegative(value); _skipLayers = value; }
    }

    /// <summary>Which published form to follow.</summary>
    public LagKvVariant Variant { get; init; }

    /// <summary>Kvpress variant: select on raw (s_K + s_V)/2 instead of per-partition ranks.</summary>
    public bool CrossScoring { get; init; }

    /// <summary>Tokens kept out of each scored partition: int((1 − compression)·lag).</summary>
    /// <exception cref="InvalidOperationException">The budget is a token budget (reference variant needs a ratio).</exception>
    public int PartitionKeep => _budget.TokenBudget is null
        ? _budget.KeepCount(_lag)
        : throw new InvalidOperationException("lagkv keeps a fraction of each partition: give a compression ratio, not a token budget (or use variant=kvpress)");

    /// <summary>
    /// Tokens one head holds after a single prefill of <paramref name="tokens"/> tokens in the reference variant
    /// (the paper's Eq. 12): S + k(⌊(Ls−S)/L⌋ − 1) + L + ((Ls−S) mod L), or Ls when Ls &lt; S + 2L.
    /// </summary>
    public int KeptAfterPrefill(int tokens)
    {
        if (tokens < _sink + 2 * _lag) return tokens;
        int partitions = (tokens - _sink) / _lag;
        return _sink + PartitionKeep * (partitions - 1) + _lag + (tokens - _sink) % _lag;
    }

    /// <summary>The current compressed length base_len of <paramref name="layer"/> (S before any compression).</summary>
    public int CompressedLength(int layer) => layer < _compressedLength.Length ? _compressedLength[layer] : _sink;

    /// <inheritdoc/>
    public KvPlan? CompressPrefill(PressContext context) => Variant switch
    {
        LagKvVariant.Kvpress => Kvpress.CompressPrefill(context),
        _ => Compress(context),
    };

    /// <inheritdoc/>
    public KvPlan? CompressDecode(PressContext context) => Variant == LagKvVariant.Reference ? Compress(context) : null;

    private KvpressLagKvScorer Kvpress => _kvpress ??= new KvpressLagKvScorer
    {
        Budget = _budget, Sink = _sink, Lag = _lag, CrossScoring = CrossScoring, SkipLayers = _skipLayers,
    };

    /// <summary>The reference algorithm for one layer; allocates nothing unless it compresses.</summary>
    private KeepPlan? Compress(PressContext context)
    {
        int layer = context.Layer;
        if (layer < _skipLayers) return null;
        int heads = context.Cache.KvHeadCount;
        var first = context.Head(0);
        int n = first.Count;
        int baseLen = CurrentBase(context.Cache, layer, first);
        if (n < baseLen + 2 * _lag) return null;
        for (int h = 1; h < heads; h++)
            if (context.Head(h).Count != n)
                throw new InvalidOperationException($"lagkv needs the KV heads of layer {layer} to hold equal token counts; head {h} holds {context.Head(h).Count}, head 0 holds {n}");

        int keep = PartitionKeep;
        int partitions = (n - baseLen) / _lag;   // P ≥ 2 full partitions in [baseLen, end)
        int end = baseLen + partitions * _lag;
        int tailStart = end - _lag;              // the last full partition (only a reference) and the remainder
        int newBase = baseLen + (partitions - 1) * keep;
        if (keep >= _lag)
        {
            // Nothing to evict (compression 0): the region still counts as compressed, as in the reference.
            Remember(layer, newBase, newBase > 0 ? first.Positions[newBase - 1] : int.MinValue);
            return null;
        }

        var plan = new int[heads][];
        float[] scores = new float[_lag]; // [lag] one partition's scores
        for (int h = 0; h < heads; h++)
        {
            var head = context.Head(h);
            var kept = plan[h] = new int[newBase + (n - tailStart)];
            int k = 0;
            for (int i = 0; i < baseLen; i++) kept[k++] = i;
            for (int start = baseLen; start < tailStart; start += _lag)
            {
                LagKvScoring.ScorePartition(context, head, start, _lag, _scoreVRatio, scores);
                foreach (int i in TokenSelection.Select(scores, keep)) kept[k++] = start + i; // ascending, ties to the lower position
            }
            for (int i = tailStart; i < n; i++) kept[k++] = i;
        }
        Remember(layer, newBase, newBase > 0 ? first.Positions[plan[0][newBase - 1]] : int.MinValue);
        return new KeepPlan(layer, plan);
    }

    /// <summary>
    /// base_len of <paramref name="layer"/>, reset to S when the cache no longer matches the recorded state: fewer
    /// tokens than base_len, or a different token at index base_len − 1 of head 0 (a cleared and refilled cache
    /// holds contiguous positions there, while a compressed one has skipped some).
    /// </summary>
    private int CurrentBase(KvCache cache, int layer, KvHead first)
    {
        if (_compressedLength.Length != cache.LayerCount)
        {
            _compressedLength = new int[cache.LayerCount];
            _boundaryPosition = new int[cache.LayerCount];
            for (int l = 0; l < cache.LayerCount; l++) Remember(l, _sink, int.MinValue);
        }
        int baseLen = _compressedLength[layer];
        if (_boundaryPosition[layer] != int.MinValue &&
            (first.Count < baseLen || first.Positions[baseLen - 1] != _boundaryPosition[layer]))
        {
            Remember(layer, _sink, int.MinValue);
            baseLen = _sink;
        }
        return baseLen;
    }

    /// <summary>Records base_len and the position that identifies it (int.MinValue: nothing to check).</summary>
    private void Remember(int layer, int baseLen, int boundaryPosition)
    {
        _compressedLength[layer] = baseLen;
        _boundaryPosition[layer] = baseLen == _sink ? int.MinValue : boundaryPosition;
    }
}
