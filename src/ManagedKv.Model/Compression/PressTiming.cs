using System.Diagnostics;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Time a <see cref="PressRunner"/> spent in one phase, in <see cref="Stopwatch"/> ticks: deciding plans (the
/// presses' <c>Compress*</c> calls, i.e. scoring and selection, plus the runner's statistics set-up) and applying
/// them (<see cref="Cache.KvCache.Apply"/>). The attention kernel's extra work for statistics is not included: it
/// runs inside the attention operation.
/// </summary>
/// <param name="PlanTicks">Ticks spent deciding plans.</param>
/// <param name="ApplyTicks">Ticks spent applying them.</param>
/// <param name="Invocations">Layer invocations (one per layer per forward call).</param>
public readonly record struct PressPhaseTiming(long PlanTicks, long ApplyTicks, long Invocations)
{
    /// <summary>Time deciding plans.</summary>
    public TimeSpan Plan => Stopwatch.GetElapsedTime(0, PlanTicks);

    /// <summary>Time applying plans.</summary>
    public TimeSpan Apply => Stopwatch.GetElapsedTime(0, ApplyTicks);

    /// <summary>Plan plus apply.</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(0, PlanTicks + ApplyTicks);
}

/// <summary>Time a <see cref="PressRunner"/> spent since its last <see cref="PressRunner.ResetTiming"/>, by phase.</summary>
/// <param name="Prefill">After each layer's prefill.</param>
/// <param name="Decode">After decode steps.</param>
public readonly record struct PressTiming(PressPhaseTiming Prefill, PressPhaseTiming Decode);
