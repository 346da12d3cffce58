using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Inference;

/// <summary>What the forward pass reports to a <see cref="ILayerHook"/> after a layer.</summary>
/// <param name="Layer">The layer that just appended its keys and values and attended.</param>
/// <param name="Cache">The sequence's cache.</param>
/// <param name="Positions">Positions of the tokens this forward call processed in this micro-batch.</param>
/// <param name="IsFinalChunk">True for the last micro-batch of the forward call (always true when decoding).</param>
/// <param name="Backend">The backend running the pass (presses may use its scoring kernels).</param>
public readonly ref struct LayerEvent(int Layer, KvCache Cache, ReadOnlySpan<int> Positions, bool IsFinalChunk, IBackend Backend)
{
    /// <summary>The backend running the pass.</summary>
    public IBackend Backend { get; } = Backend;

    /// <summary>The layer index.</summary>
    public int Layer { get; } = Layer;

    /// <summary>The cache.</summary>
    public KvCache Cache { get; } = Cache;

    /// <summary>Positions processed in this micro-batch.</summary>
    public ReadOnlySpan<int> Positions { get; } = Positions;

    /// <summary>Whether this is the forward call's last micro-batch.</summary>
    public bool IsFinalChunk { get; } = IsFinalChunk;
}

/// <summary>
/// A seam in the forward pass: called after each layer has appended its keys and values and attended.
/// The compression layer uses it to compress a layer's cache right after the layer's prefill; the pass
/// without a hook is unchanged. A hook may also ask the attention kernel for statistics
/// (<see cref="StatisticsFor"/>), which the fast path does not compute.
/// </summary>
public interface ILayerHook
{
    /// <summary>
    /// Called once at the start of a forward call, before any layer runs, with the positions it will process
    /// (all micro-batches together). Hooks that ask for statistics prepare them here.
    /// </summary>
    void BeginForward(PositionRange call)
    {
    }

    /// <summary>
    /// The statistics layer <paramref name="layer"/>'s attention should accumulate in the current forward call, or
    /// null for none (the default). Asked before every micro-batch's attention; the same object must be returned
    /// for every micro-batch of one call, since its sums grow across them.
    /// </summary>
    AttentionStatistics? StatisticsFor(int layer) => null;

    /// <summary>Called after a layer processed a micro-batch.</summary>
    void AfterLayer(in LayerEvent e);
}
