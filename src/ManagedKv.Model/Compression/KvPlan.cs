namespace ManagedKv.Model.Compression;

/// <summary>
/// What a press decided for one layer: plain data the cache applies (<see cref="Cache.KvCache.Apply"/>).
/// Plans are pure functions of the press's inputs, so they are what snapshot tests record and what
/// CPU/GPU parity compares.
/// </summary>
/// <param name="Layer">The layer the plan edits.</param>
public abstract record KvPlan(int Layer);

/// <summary>
/// Token eviction: for each KV head of the layer, the strictly increasing indices (into the head's current
/// token list) of the tokens to keep. Everything else in that head is freed.
/// </summary>
/// <param name="Layer">The layer.</param>
/// <param name="KeepPerHead">[kvHeads][kept] ascending token indices.</param>
public sealed record KeepPlan(int Layer, IReadOnlyList<int[]> KeepPerHead) : KvPlan(Layer)
{
    /// <summary>Tokens kept over all heads.</summary>
    public int KeptCount => KeepPerHead.Sum(k => k.Length);
}
