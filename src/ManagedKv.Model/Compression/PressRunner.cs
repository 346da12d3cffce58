using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Runs presses at the forward pass's fixed points: after each layer's prefill (once the whole prompt is in
/// the cache, i.e. after the final micro-batch) and after each decode step for presses that define
/// decode-time compression. Presses run in order, each seeing the cache its predecessor left (composition:
/// e.g. an eviction press followed by a quantising one). Their plans are applied immediately and kept in
/// <see cref="History"/> when recording is on (snapshot tests, <c>--dump</c>).
/// </summary>
public sealed class PressRunner(ModelConfig config, IReadOnlyList<IKvPress> presses) : ILayerHook
{
    private readonly List<KvPlan> _history = [];

    /// <summary>The presses, in application order.</summary>
    public IReadOnlyList<IKvPress> Presses { get; } = presses;

    /// <summary>Phase of the current forward call; the session sets it.</summary>
    public CompressionPhase Phase { get; set; } = CompressionPhase.Prefill;

    /// <summary>Whether applied plans are recorded in <see cref="History"/>.</summary>
    public bool Record { get; set; }

    /// <summary>When set, every press invocation's inputs and plan are written there (<c>--dump</c>).</summary>
    public Diagnostics.PressDump? Dump { get; set; }

    /// <summary>Every plan applied while <see cref="Record"/> was on, in order.</summary>
    public IReadOnlyList<KvPlan> History => _history;

    /// <inheritdoc/>
    public void AfterLayer(in LayerEvent e)
    {
        if (!e.IsFinalChunk) return;
        var context = new PressContext(e.Layer, e.Cache, config, Phase, e.Backend);
        foreach (var press in Presses)
        {
            var plan = Phase == CompressionPhase.Prefill ? press.CompressPrefill(context) : press.CompressDecode(context);
            if (Dump is not null && (plan is not null || Phase == CompressionPhase.Prefill)) Dump.Record(press, context, plan);
            if (plan is null) continue;
            e.Cache.Apply(plan);
            if (Record) _history.Add(plan);
        }
    }
}
