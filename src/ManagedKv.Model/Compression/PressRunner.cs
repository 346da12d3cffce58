using System.Diagnostics;
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
/// <para>
/// The runner always keeps the time it spends (<see cref="Timing"/>): a few timestamp reads per layer and forward
/// call, no allocation, so benchmarks can report the compression overhead as a share of the same run's time.
/// </para>
/// </summary>
public sealed class PressRunner(ModelConfig config, IReadOnlyList<IKvPress> presses) : ILayerHook
{
    private readonly List<KvPlan> _history = [];
    private AttentionStatistics?[] _statistics = []; // [layers] buffers, reused across calls
    private AttentionStatistics?[] _active = [];     // [layers] this call's requests (null: plain kernel)
    private long _prefillPlan, _prefillApply, _prefillCalls, _decodePlan, _decodeApply, _decodeCalls; // Stopwatch ticks, invocations

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

    /// <summary>Time spent deciding and applying plans since the runner was made or <see cref="ResetTiming"/>.</summary>
    public PressTiming Timing => new(
        new PressPhaseTiming(_prefillPlan, _prefillApply, _prefillCalls),
        new PressPhaseTiming(_decodePlan, _decodeApply, _decodeCalls));

    /// <summary>Zeroes <see cref="Timing"/>.</summary>
    public void ResetTiming() => _prefillPlan = _prefillApply = _prefillCalls = _decodePlan = _decodeApply = _decodeCalls = 0;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Two presses ask for different queries of one layer.</exception>
    public void BeginForward(PositionRange call)
    {
        long started = Stopwatch.GetTimestamp();
        PrepareStatistics(call);
        AddPlanTicks(Stopwatch.GetTimestamp() - started);
    }

    private void PrepareStatistics(PositionRange call)
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
        long planTicks = 0, applyTicks = 0;
        long t0 = Stopwatch.GetTimestamp();
        var statistics = StatisticsFor(e.Layer);
        var context = new PressContext(e.Layer, e.Cache, config, Phase, e.Backend, statistics);
        foreach (var press in Presses)
        {
            var plan = Phase == CompressionPhase.Prefill ? press.CompressPrefill(context) : press.CompressDecode(context);
            if (Dump is not null && (plan is not null || Phase == CompressionPhase.Prefill)) Dump.Record(press, context, plan);
            long t1 = Stopwatch.GetTimestamp();
            planTicks += t1 - t0;
            t0 = t1;
            if (plan is null) continue;
            e.Cache.Apply(plan);
            // Later presses read statistics aligned with the cache they see.
            if (statistics is not null && plan is KeepPlan keep && plan.Layer == e.Layer) statistics.Keep(keep.KeepPerHead);
            if (Record) _history.Add(plan);
            t1 = Stopwatch.GetTimestamp();
            applyTicks += t1 - t0;
            t0 = t1;
        }
        AddPlanTicks(planTicks);
        if (Phase == CompressionPhase.Prefill)
        {
            _prefillApply += applyTicks;
            _prefillCalls++;
        }
        else
        {
            _decodeApply += applyTicks;
            _decodeCalls++;
        }
    }

    private void AddPlanTicks(long ticks)
    {
        if (Phase == CompressionPhase.Prefill) _prefillPlan += ticks;
        else _decodePlan += ticks;
    }
}
