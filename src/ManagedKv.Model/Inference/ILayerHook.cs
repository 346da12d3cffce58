using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Inference;

/// <summary>
/// A seam in the forward pass: called after each layer has appended its keys and values and attended.
/// The compression layer uses it to compress a layer's cache right after the layer's prefill; the pass
/// without a hook is unchanged.
/// </summary>
public interface ILayerHook
{
    /// <summary>Called after layer <paramref name="layer"/> processed tokens at <paramref name="positions"/>.</summary>
    void AfterLayer(int layer, KvCache cache, ReadOnlySpan<int> positions);
}
