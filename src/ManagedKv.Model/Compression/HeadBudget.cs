namespace ManagedKv.Model.Compression;

/// <summary>How a scoring press splits a layer's token budget between its KV heads.</summary>
public enum HeadBudget
{
    /// <summary>Every KV head keeps its own budget (kvpress's ScorerPress): equal counts for equal-length heads.</summary>
    Uniform,

    /// <summary>
    /// AdaKV (Feng et al., "Ada-KV: Optimizing KV Cache Eviction by Adaptive Budget Allocation for Efficient LLM
    /// Inference", 2024, arXiv:2407.11550; kvpress's AdaKVPress): each head keeps at least
    /// <see cref="CompressionBudget.AlphaSafeguard"/> of its own budget (its best-scored tokens), and the rest of the
    /// layer's budget goes to the highest scores across all the layer's heads. Heads then hold different token counts;
    /// the cache is ragged per head, so the memory is really saved (kvpress only masks the evicted tokens).
    /// </summary>
    Adaptive,
}
