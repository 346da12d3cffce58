namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// PyramidKV: SnapKV's scores with a budget that falls linearly from the first layer to the last. Cai et al.,
/// "PyramidKV: Dynamic KV Cache Compression based on Pyramidal Information Funneling", 2024 (arXiv:2406.02069).
/// Parameters: <c>window</c> 64, <c>kernel</c> 5 (as <see cref="SnapKvPress"/>), <c>beta</c> 20.
/// <para>
/// Budget of layer l out of L, for a head holding q_len tokens, as kvpress's <c>get_layer_budget</c>: with the mean
/// kept count K = q_len·(1 − ratio) (or the token budget, at most q_len), max_cap = window + K,
/// min_num = (max_cap − window)/β, max_num = 2(max_cap − window) − min_num; if max_num ≥ q_len − window then
/// max_num = q_len − window and min_num = 2(max_cap − window) − max_num (the layers still average K); unless
/// q_len ≥ max_num ≥ min_num ≥ window, fall back to SnapKV's round(K) for every layer; otherwise
/// budget_l = round(max_num − l·(max_num − min_num)/(L − 1)) (Python's round: halves to even). One layer: round(K).
/// The observation window is kept whatever the budget.
/// </para>
/// </summary>
public sealed class PyramidKvPress : SnapKvPress
{
    private readonly int _beta = 20;

    /// <summary>Registry entry.</summary>
    public static new PressDescriptor Descriptor { get; } = new("pyramidkv",
        "SnapKV scores with a per-layer budget falling linearly from the first layer to the last (prefill)",
        "Cai et al., 2024, arXiv:2406.02069",
        [
            new("window", "int", "64", "observation window, as snapkv; also the floor of the pyramid"),
            new("kernel", "int", "5", "1-D average pooling kernel over the token axis (odd)"),
            new("beta", "int", "20", "steepness: the last layer gets (max_cap − window)/beta tokens"),
            .. HeadBudgetParameters,
        ],
        a => new PyramidKvPress { Budget = a.Budget, Window = a.Int("window"), KernelSize = a.Int("kernel"), Beta = a.Int("beta") });

    /// <inheritdoc/>
    public override string Name => "pyramidkv";

    /// <summary>The pyramid's steepness β (≥ 1).</summary>
    public int Beta
    {
        get => _beta;
        init { ArgumentOutOfRangeException.ThrowIfLessThan(value, 1); _beta = value; }
    }

    /// <inheritdoc/>
    protected override int KeepCount(PressContext context, int tokens) => LayerBudget(context.Layer, context.Cache.LayerCount, tokens);

    /// <summary>Tokens a head of <paramref name="tokens"/> tokens keeps in <paramref name="layer"/> of <paramref name="layers"/> (see the class remarks).</summary>
    public int LayerBudget(int layer, int layers, int tokens)
    {
        double mean = Budget.TokenBudget is { } budget ? Math.Min(budget, tokens) : tokens * (1.0 - Budget.Compression);
        int fallback = (int)Math.Round(mean, MidpointRounding.ToEven);
        if (layers < 2) return fallback;
        double maxCapacity = Window + mean;
        double minNum = (maxCapacity - Window) / _beta;
        double maxNum = (maxCapacity - Window) * 2 - minNum;
        if (maxNum >= tokens - Window)
        {
            maxNum = tokens - Window;
            minNum = (maxCapacity - Window) * 2 - maxNum;
        }
        if (!(tokens >= maxNum && maxNum >= minNum && minNum >= Window)) return fallback;
        double steps = (maxNum - minNum) / (layers - 1);
        return (int)Math.Round(maxNum - layer * steps, MidpointRounding.ToEven);
    }
}
