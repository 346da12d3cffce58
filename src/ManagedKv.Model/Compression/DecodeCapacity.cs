namespace ManagedKv.Model.Compression;

/// <summary>
/// The fixed-size cache of the decode-time eviction policies (H2O, TOVA): how many tokens each KV head of a layer may
/// hold while decoding, one token evicted for every token generated once a head is full.
/// <list type="bullet">
/// <item>A token budget B: B, in prefill and decoding alike (a prompt shorter than B lets the cache grow to B).</item>
/// <item>A ratio c &gt; 0: what the layer's heads kept at its last prefill compression, int(n·(1 − c)) of n tokens
/// (the largest head's count if they differ): the prefill sets the cache size and decoding keeps it, the papers'
/// fixed budget. A later prefill call (a new turn) sets it again. No prefill seen yet: unbounded.</item>
/// <item>Compression 0: unbounded (the full cache, like every press at ratio 0).</item>
/// </list>
/// </summary>
public sealed class DecodeCapacity
{
    private int[] _kept = []; // [layers] tokens per head kept by the last prefill compression, −1 before any

    /// <summary>Records that the prefill of <paramref name="layer"/> left at most <paramref name="kept"/> tokens in each KV head.</summary>
    public void RememberPrefill(int layer, int kept)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfNegative(kept);
        if (layer >= _kept.Length)
        {
            int old = _kept.Length;
            Array.Resize(ref _kept, layer + 1);
            _kept.AsSpan(old).Fill(-1);
        }
        _kept[layer] = kept;
    }

    /// <summary>Tokens each KV head of <paramref name="layer"/> may hold while decoding; null: no limit.</summary>
    public int? Capacity(CompressionBudget budget, int layer)
    {
        if (budget.TokenBudget is { } tokens) return tokens;
        if (budget.Compression == 0) return null;
        return layer < _kept.Length && _kept[layer] >= 0 ? _kept[layer] : null;
    }
}
