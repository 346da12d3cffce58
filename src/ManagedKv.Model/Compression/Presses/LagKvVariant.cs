namespace ManagedKv.Model.Compression.Presses;

/// <summary>Which published form of LagKV a <see cref="LagKvPress"/> follows.</summary>
public enum LagKvVariant
{
    /// <summary>
    /// The authors' code (<c>LagKV/lag_kv.py</c>): incremental, top-k per (layer, KV head, partition) keeping
    /// int((1 − compression)·lag) tokens, score s_K + score_v_ratio·s_V; compresses in prefill and decoding.
    /// </summary>
    Reference,

    /// <summary>
    /// NVIDIA kvpress's <c>LagKVPress</c>: prefill only, score (s_K + s_V)/2 turned into a per-partition rank
    /// (unless cross scoring), sink and tail scored 1, one top-k over the whole head keeping
    /// int(n·(1 − compression)) tokens; a prompt shorter than sink + 2·lag keeps the sink and the most recent tokens.
    /// </summary>
    Kvpress,
}
