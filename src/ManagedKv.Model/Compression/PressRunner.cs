using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Runs presses at the forward pass's fixed points: after each layer's prefill (once the whole prompt is in
/// the cache, i.e. after the final micro-batch) and after each decode step for presses that define
/// decode-time compression. Presses run in order, each seeing the cache its predecessor left (composition:
/// e.g. an eviction press followed by a quantising one). Their plans are applied immediately and kept in
/// <see cref="History"/> when recording is on (snapshot tests, <c>--dump</c>).
/// <para>
/// Attention statistics: before each forward call the runner asks every press which queries' attention it needs
/// per layer (<see cref="IKvPress.AttentionQueryStart"/>) and hands the kernel one reusable
/// <see cref="AttentionStatistics"/> per layer that needs any; layers nobody asks about run the plain kernel.
/// Presses of one composition that ask for the same layer must ask for the same queries (the kernel keeps one sum).
/// </para>
/// </summary>
public sealed class PressRunner(ModelConfig config, IReadOnlyList<IKvPress> presses) : ILayerHook
{
    private readonly List<KvPlan> _history = [];
    private AttentionStatistics?[] _statistics = []; // [layers] buffers, reused across calls
    private AttentionStatistics?[] _active = [];     // [layers] this call's requests (null: plain kernel)

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
    /// <exception cref="InvalidOperationException">Two presses ask for different queries of one layer.</exception>
    public void BeginForward(PositionRange call)
    {
        int layers = config.BlockCount;
        if (_active.Length != layers)
        {
            _statistics = new AttentionStatistics?[layers];
            _active = new AttentionStatistics?[layers];
        }
        for (int l = 0; l < layers; l++)
        {
            int? start = null;
            IKvPress? asker = null;
            foreach (var press in Presses)
            {
                if (press.AttentionQueryStart(Phase, l, call) is not { } s) continue;
                s = Math.Clamp(s, call.Start, call.End);
                if (start is { } other && other != s)
                    throw new InvalidOperationException(
                        $"presses '{asker!.Name}' and '{press.Name}' ask for the attention of different queries in layer {l} (from positions {other} and {s}); the kernel sums one set per layer");
                start = s;
                asker = press;
            }
            _active[l] = null;
            if (start is not { } first || first >= call.End) continue;
            var statistics = _statistics[l] ??= new AttentionStatistics(config.HeadCount);
            statistics.Begin(call, first);
            _active[l] = statistics;
        }
    }

    /// <inheritdoc/>
    public AttentionStatistics? StatisticsFor(int layer) => (uint)layer < (uint)_active.Length ? _active[layer] : null;

    /// <inheritdoc/>
    public void AfterLayer(in LayerEvent e)
    {
        if (!e.IsFinalChunk) return;
        var statistics = StatisticsFor(e.Layer);
        var context = new PressContext(e.Layer, e.Cache, config, Phase, e.Backend, statistics);
        foreach (var press in Presses)
        {
            var plan = Phase == CompressionPhase.Prefill ? press.CompressPrefill(context) : press.CompressDecode(context);
            if (Dump is not null && (plan is not null || Phase == CompressionPhase.Prefill)) Dump.Record(press, context, plan);
            if (plan is null) continue;
            e.Cache.Apply(plan);
            // Later presses read statistics aligned with the cache they see.
            if (statistics is not null && plan is KeepPlan keep && plan.Layer == e.Layer) statistics.Keep(keep.KeepPerHead);
            if (Record) _history.Add(plan);
        }
    }
}
