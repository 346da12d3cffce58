using ManagedKv.Model.Cache;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>When a press runs.</summary>
public enum CompressionPhase
{
    /// <summary>After a layer's prefill (the whole prompt is in the cache).</summary>
    Prefill,
    /// <summary>After a decoded token was appended (decode-time policies such as LagKV's and H2O's).</summary>
    Decode,
}

/// <summary>Everything a press may read for one layer. Presses never write to the cache; they return plans.</summary>
/// <param name="Layer">The layer index.</param>
/// <param name="Cache">The cache (read-only by convention; edits go through plans).</param>
/// <param name="Config">The model's hyper-parameters.</param>
/// <param name="Phase">Prefill or decode.</param>
/// <param name="Backend">The backend, when the press runs inside a forward pass (its <see cref="IPressScoring"/>
/// kernels, if any, replace the scalar scoring); null in unit tests.</param>
/// <param name="Statistics">The attention statistics the layer's kernel accumulated in this forward call, when a
/// press asked for them (<see cref="IKvPress.AttentionQueryStart"/>); aligned with the cache as the press sees it
/// (evictions by presses earlier in a composition are already applied to them).</param>
public sealed record PressContext(int Layer, KvCache Cache, ModelConfig Config, CompressionPhase Phase, IBackend? Backend = null,
    AttentionStatistics? Statistics = null)
{
    /// <summary>The layer's KV head <paramref name="kvHead"/>.</summary>
    public KvHead Head(int kvHead) => Cache.Head(Layer, kvHead);

    /// <summary>
    /// The statistics, checked: present, and sized to every KV head's token count (query head h reads KV head
    /// h / group). Presses that score by attention call this first.
    /// </summary>
    /// <param name="press">The asking press's name, for the message.</param>
    /// <exception cref="InvalidOperationException">No statistics, or they do not match the cache.</exception>
    public AttentionStatistics RequireStatistics(string press)
    {
        var statistics = Statistics ?? throw new InvalidOperationException(
            $"press '{press}' scores tokens by attention: it needs the attention statistics of layer {Layer} (run it through a PressRunner)");
        int kvHeads = Cache.KvHeadCount;
        if (statistics.QueryHeadCount % kvHeads != 0)
            throw new InvalidOperationException($"attention statistics have {statistics.QueryHeadCount} query heads, not a multiple of the cache's {kvHeads} KV heads");
        int group = statistics.QueryHeadCount / kvHeads;
        for (int h = 0; h < statistics.QueryHeadCount; h++)
            if (statistics.Sums(h).Length != Head(h / group).Count)
                throw new InvalidOperationException(
                    $"attention statistics of layer {Layer} query head {h} cover {statistics.Sums(h).Length} tokens; KV head {h / group} holds {Head(h / group).Count}");
        return statistics;
    }
}
