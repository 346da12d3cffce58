using ManagedKv.Model.Cache;
using ManagedKv.Model.Config;

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
public sealed record PressContext(int Layer, KvCache Cache, ModelConfig Config, CompressionPhase Phase, Inference.IBackend? Backend = null)
{
    /// <summary>The layer's KV head <paramref name="kvHead"/>.</summary>
    public KvHead Head(int kvHead) => Cache.Head(Layer, kvHead);
}
