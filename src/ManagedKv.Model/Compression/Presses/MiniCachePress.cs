using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// MiniCache: compress the KV cache in depth by merging adjacent layers. Liu et al., "MiniCache: KV Cache
/// Compression in Depth Dimension for Large Language Models", NeurIPS 2024 (arXiv:2405.14366).
/// <para>
/// From half depth, layers are paired (⌊L/2⌋, ⌊L/2⌋+1), (⌊L/2⌋+2, ⌊L/2⌋+3), …; a trailing unpaired layer (odd count)
/// stays whole, and a model too shallow for one pair is left alone. When the upper layer of a pair finishes its
/// prefill (the lower layer's cache is already final), every (token, KV head) row of the pair is merged: one unit
/// direction e = SLERP(û_lower, û_upper; t) shared by both layers (see <see cref="Slerp"/>) and the magnitude ‖x‖ per
/// layer, restored as x̂ = e·‖x‖. Keys and values merge separately. Keys are merged as cached, after RoPE: both layers
/// rotate a token by the same position-dependent rotation, which keeps norms and angles, so merging after RoPE equals
/// merging before and rotating back.
/// </para>
/// <para>
/// Retention follows the paper's prose (ManagedKv's decision; the third-party reimplementation's threshold formula
/// reads the other way): the <see cref="Gamma"/> fraction, ⌊γ·N⌋ of the N rows of the pair (all heads), with the
/// largest angle Ω between the two layers stay unmerged in both layers, chosen separately for keys and values; ties
/// go to the lower head, then the lower token index. Tokens decoded later are appended unmerged.
/// </para>
/// <para>
/// The budget (compression ratio / token budget) is ignored: the compression comes from merging, and the effective
/// ratio is what the cache's byte count reports. Pairs whose layers hold different tokens in some head (a preceding
/// eviction press chose differently per layer), or that are already merged (a later prefill call), are left as they
/// are.
/// </para>
/// </summary>
public sealed class MiniCachePress : IKvPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("minicache",
        "merge adjacent layer pairs from half depth: shared SLERP directions + per-layer magnitudes, most distinct rows retained (ignores the compression ratio/token budget; the effective ratio is the cache bytes)",
        "Liu et al., MiniCache, NeurIPS 2024, arXiv:2405.14366",
        [
            new("t", "double", "0.6", "SLERP parameter in [0, 1]: 0 = lower layer's direction, 1 = upper layer's (the paper's 0.6 leans to the upper layer)"),
            new("gamma", "double", "0.05", "fraction in [0, 1] of a pair's rows kept unmerged: the most distinct (largest angle), keys and values separately"),
            new("start_layer", "int", "-1", "lower layer of the first merged pair; -1 = half depth, ⌊layers/2⌋"),
        ],
        a => new MiniCachePress { T = a.Double("t"), Gamma = a.Double("gamma"), StartLayer = a.Int("start_layer") })
    {
        UsesBudget = false,
    };

    /// <summary>Slack when flooring γ·N, so a product such as 0.05·800 that lands a rounding error below 40 still retains 40.</summary>
    private const double FloorSlack = 1e-9;

    /// <inheritdoc/>
    public string Name => "minicache";

    /// <summary>SLERP parameter in [0, 1] (paper: 0.6).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1].</exception>
    public double T
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(T), value, "t must be in [0, 1]");
    } = 0.6;

    /// <summary>Fraction in [0, 1] of a pair's rows retained unmerged (paper: 0.05).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1].</exception>
    public double Gamma
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Gamma), value, "gamma must be in [0, 1]");
    } = 0.05;

    /// <summary>Lower layer of the first merged pair; −1 (default) = ⌊layers/2⌋.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below −1.</exception>
    public int StartLayer
    {
        get;
        init => field = value >= -1 ? value : throw new ArgumentOutOfRangeException(nameof(StartLayer), value, "start_layer must be ≥ 0, or -1 for half depth");
    } = -1;

    /// <summary>The merged layer pairs (lower, upper) of a model with <paramref name="layerCount"/> layers.</summary>
    public IReadOnlyList<(int Lower, int Upper)> Pairs(int layerCount)
    {
        var pairs = new List<(int, int)>();
        for (int lower = FirstLayer(layerCount); lower + 1 < layerCount; lower += 2) pairs.Add((lower, lower + 1));
        return pairs;
    }

    /// <inheritdoc/>
    public KvPlan? CompressPrefill(PressContext context)
    {
        var cache = context.Cache;
        int upper = context.Layer, lower = upper - 1, first = FirstLayer(cache.LayerCount);
        if (upper <= first || (upper - first) % 2 != 1) return null;

        int heads = cache.KvHeadCount;
        var lowerHeads = new KvHead[heads];
        var upperHeads = new KvHead[heads];
        for (int h = 0; h < heads; h++)
        {
            lowerHeads[h] = cache.Head(lower, h);
            upperHeads[h] = cache.Head(upper, h);
            if (lowerHeads[h].Keys is MergedKvRows || upperHeads[h].Keys is MergedKvRows) return null;
            if (!lowerHeads[h].Positions.SequenceEqual(upperHeads[h].Positions)) return null;
        }

        var keyAngles = new double[heads][];
        var valueAngles = new double[heads][];
        for (int h = 0; h < heads; h++)
        {
            keyAngles[h] = Angles(lowerHeads[h].Keys, upperHeads[h].Keys);
            valueAngles[h] = Angles(lowerHeads[h].Values, upperHeads[h].Values);
        }
        var retainedKeys = SelectRetained(keyAngles, Gamma);
        var retainedValues = SelectRetained(valueAngles, Gamma);

        // Nothing to merge (γ = 1, or an empty cache): no plan, so the cache stays bit for bit what it was.
        long rows = keyAngles.Sum(a => (long)a.Length);
        if (retainedKeys.Sum(r => (long)r.Length) == rows && retainedValues.Sum(r => (long)r.Length) == rows) return null;
        return new MergePlan(upper, lower, T, retainedKeys, retainedValues);
    }

    /// <summary>The angle Ω between the two layers' rows, per row, [rows].</summary>
    public static double[] Angles(KvRows lower, KvRows upper)
    {
        if (lower.Count != upper.Count || lower.Width != upper.Width)
            throw new ArgumentException($"row lists differ: lower {lower.Count}×{lower.Width}, upper {upper.Count}×{upper.Width}");
        var angles = new double[lower.Count];
        var a = new float[lower.Width];
        var b = new float[upper.Width];
        for (int i = 0; i < angles.Length; i++)
        {
            lower.Read(i, a);
            upper.Read(i, b);
            angles[i] = Slerp.Angle(a, b);
        }
        return angles;
    }

    /// <summary>
    /// The rows to keep unmerged: the ⌊<paramref name="gamma"/>·N⌋ rows with the largest angle among all N rows of
    /// all heads (ties to the lower head, then the lower index), returned per head as ascending indices.
    /// </summary>
    /// <param name="anglesPerHead">[heads][rows] angles Ω.</param>
    /// <param name="gamma">Retained fraction in [0, 1].</param>
    public static int[][] SelectRetained(IReadOnlyList<double[]> anglesPerHead, double gamma)
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in [0, 1]");
        var offsets = new int[anglesPerHead.Count + 1];
        for (int h = 0; h < anglesPerHead.Count; h++) offsets[h + 1] = offsets[h] + anglesPerHead[h].Length;
        int total = offsets[^1];
        int count = Math.Min(total, (int)Math.Floor(gamma * total + FloorSlack));

        // Flat row ids are head-major, so ordering ties by id sends them to the lower head, then the lower index.
        var flat = new double[total];
        for (int h = 0; h < anglesPerHead.Count; h++) anglesPerHead[h].CopyTo(flat, offsets[h]);
        var order = Enumerable.Range(0, total).ToArray();
        Array.Sort(order, (x, y) =>
        {
            int byAngle = flat[y].CompareTo(flat[x]); // a total order (NaN last), so the sort is well defined
            return byAngle != 0 ? byAngle : x.CompareTo(y);
        });

        var chosen = new bool[total];
        for (int i = 0; i < count; i++) chosen[order[i]] = true;
        var retained = new int[anglesPerHead.Count][];
        for (int h = 0; h < anglesPerHead.Count; h++)
        {
            var rows = new List<int>();
            for (int i = 0; i < anglesPerHead[h].Length; i++)
                if (chosen[offsets[h] + i]) rows.Add(i);
            retained[h] = rows.ToArray();
        }
        return retained;
    }

    private int FirstLayer(int layerCount) => StartLayer >= 0 ? StartLayer : layerCount / 2;
}
