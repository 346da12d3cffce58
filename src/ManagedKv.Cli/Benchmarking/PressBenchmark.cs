using System.Diagnostics;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cli.Benchmarking;

/// <summary>
/// Measures one press configuration: each repetition resets the sequence, prefills <c>prompt</c> through a fresh
/// <see cref="Model.Compression.PressRunner"/> and decodes <c>decodeTokens</c> tokens at that depth. The press overhead
/// is the runner's own clock over the same prefill's wall time (a ratio within one run, so machine noise common to
/// both cancels). With a <see cref="TimedBackend"/> the decode's attention time is read from its counters.
/// </summary>
/// <param name="model">The model (bound to <paramref name="profiler"/> when profiling).</param>
/// <param name="prompt">The prompt tokens prefilled each repetition.</param>
/// <param name="decodeTokens">Tokens decoded after the prefill (0: none).</param>
/// <param name="profiler">The model's backend when it is a profiling decorator, else null.</param>
public sealed class PressBenchmark(Transformer model, int[] prompt, int decodeTokens, TimedBackend? profiler)
{
    /// <summary>Runs <paramref name="repetitions"/> timed repetitions after one untimed warm-up.</summary>
    /// <param name="options">The configuration (presses, ratio, arguments).</param>
    /// <param name="repetitions">Timed repetitions.</param>
    /// <param name="progress">Told one line per repetition (stderr in the CLI).</param>
    public IReadOnlyList<PressRun> Run(PressOptions options, int repetitions, Action<string> progress)
    {
        var session = new Session(model);
        // Warm-up: JIT of the forward pass and the press code, page-in of the weights.
        Once(session, options, prompt.AsSpan(0, Math.Min(prompt.Length, 2 * model.MaxBatch)), Math.Min(decodeTokens, 2));
        var runs = new List<PressRun>(repetitions);
        for (int r = 0; r < repetitions; r++)
        {
            var run = Once(session, options, prompt, decodeTokens);
            runs.Add(run);
            progress($"{options.Label} c={options.Compression:0.###} rep {r + 1}/{repetitions}: pp {prompt.Length / run.PrefillSeconds:F1} t/s, " +
                     $"press {run.PrefillPressSeconds * 1e3:F1} ms ({100 * run.PrefillPressSeconds / run.PrefillSeconds:F2}%)" +
                     (decodeTokens > 0 ? $", tg {decodeTokens / run.DecodeSeconds:F2} t/s" : ""));
        }
        return runs;
    }

    private PressRun Once(Session session, PressOptions options, ReadOnlySpan<int> tokens, int decode)
    {
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
