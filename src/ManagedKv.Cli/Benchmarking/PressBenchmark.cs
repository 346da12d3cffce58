using System.Diagnostics;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cli.Benchmarking;

/// <summary>
/// Measures press configurations: each repetition resets the sequence, prefills <c>prompt</c> through a fresh
/// <see cref="Model.Compression.PressRunner"/> and decodes <c>decodeTokens</c> tokens at that depth. The press overhead
/// is the runner's own clock over the same prefill's wall time (a ratio within one run, so machine noise common to
/// both cancels). With a <see cref="TimedBackend"/> the decode's attention time is read from its counters.
/// <see cref="Run"/> interleaves the configurations repetition by repetition, so a machine whose load drifts during
/// a long sweep slows every row alike instead of whichever configuration ran at the busy moment.
/// </summary>
/// <param name="model">The model (bound to <paramref name="profiler"/> when profiling).</param>
/// <param name="prompt">The prompt tokens prefilled each repetition.</param>
/// <param name="decodeTokens">Tokens decoded after the prefill (0: none).</param>
/// <param name="profiler">The model's backend when it is a profiling decorator, else null.</param>
/// <param name="cacheType">The KV cache's storage type.</param>
public sealed class PressBenchmark(Transformer model, int[] prompt, int decodeTokens, TimedBackend? profiler, KvStorageType cacheType = KvStorageType.F32)
{
    private readonly Session _session = new(model, cacheType); // one cache for every configuration: reset before each run

    /// <summary>
    /// Warms every configuration up once (untimed), then runs <paramref name="repetitions"/> rounds, each measuring
    /// every configuration once in order; returns the runs per configuration.
    /// </summary>
    /// <param name="sweep">The configurations (presses, ratio, arguments).</param>
    /// <param name="repetitions">Timed repetitions per configuration.</param>
    /// <param name="progress">Told one line per run (stderr in the CLI).</param>
    public IReadOnlyList<PressRun>[] Run(IReadOnlyList<PressOptions> sweep, int repetitions, Action<string> progress)
    {
        var runs = new List<PressRun>[sweep.Count];
        for (int i = 0; i < sweep.Count; i++)
        {
            // Warm-up: JIT of the forward pass and the press code, page-in of the weights.
            progress($"[warm-up {i + 1}/{sweep.Count}] {sweep[i].Label}");
            Once(sweep[i], prompt.AsSpan(0, Math.Min(prompt.Length, model.MaxBatch)), Math.Min(decodeTokens, 2));
            runs[i] = new List<PressRun>(repetitions);
        }
        for (int r = 0; r < repetitions; r++)
            for (int i = 0; i < sweep.Count; i++)
            {
                var run = Once(sweep[i], prompt, decodeTokens);
                runs[i].Add(run);
                progress($"[rep {r + 1}/{repetitions}] {sweep[i].Label} c={sweep[i].Compression:0.###}: pp {prompt.Length / run.PrefillSeconds:F1} t/s, " +
                         $"press {run.PrefillPressSeconds * 1e3:F1} ms ({100 * run.PrefillPressSeconds / run.PrefillSeconds:F2}%)" +
                         (decodeTokens > 0 ? $", tg {decodeTokens / run.DecodeSeconds:F2} t/s" : ""));
            }
        return runs;
    }

    private PressRun Once(PressOptions options, ReadOnlySpan<int> tokens, int decode)
    {
        var session = _session;
        session.Reset();
        // A fresh runner and presses each time: presses with per-sequence state (LagKV) start clean.
        var runner = options.CreateRunner(model.Config) ?? throw new CliException("no press to benchmark");
        session.Compression = runner;

        var clock = Stopwatch.StartNew();
        session.Prefill(tokens);
        double prefill = clock.Elapsed.TotalSeconds;

        profiler?.Reset();
        int token = prompt[0];
        clock.Restart();
        for (int i = 0; i < decode; i++)
        {
            session.Decode(token);
            token = prompt[(i + 1) % prompt.Length];
        }
        double decodeSeconds = clock.Elapsed.TotalSeconds;
        double? attention = profiler?.Snapshot().Elapsed(BackendOp.Attention).TotalSeconds;

        var timing = runner.Timing;
        return new PressRun(prefill, timing.Prefill.Total.TotalSeconds, decodeSeconds, timing.Decode.Total.TotalSeconds,
            attention, session.Cache.ByteCount, session.Cache.FullCacheBytes);
    }
}
