using System.Diagnostics;
using ManagedKv.Cli.Benchmarking;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Cpu;
using ManagedKv.Cpu.Diagnostics;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;

namespace ManagedKv.Cli.Commands;

/// <summary>
/// <c>managedkv bench</c>: prefill and decode throughput, mean ± sd over repetitions, like llama-bench. With
/// <c>--press</c> it measures compression instead: per press configuration, the prefill with the press, the press's
/// own time as a share of it, and the decode at the prompt's depth on the compressed cache.
/// </summary>
public sealed class BenchCommand : ICommand
{
    /// <inheritdoc/>
    public string Name => "bench";

    /// <inheritdoc/>
    public string Summary => "measure prefill (pp) and decode (tg) tokens/s like llama-bench; with --press, compression overhead and decode on the compressed cache";

    /// <inheritdoc/>
    public string Usage => "usage: managedkv bench [options]\n" + ModelOptions.Usage + """
          -p, --n-prompt N     prompt tokens for the prefill test (default: 512; 0 = skip)
          -n, --n-gen N        tokens for the decode test (default: 128; 0 = skip)
          -r, --repetitions N  repetitions (default: 5)
          --profile            time every backend operation; report attention's share of decode time
        with --press, each repetition prefills the prompt through the presses, then decodes -n tokens at that depth
        (one Markdown row per press configuration):
        """ + "\n" + PressOptions.SweepUsage;

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string> { "--profile" };

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOptions.Parse(args);
        int nPrompt = args.Int(512, 0, 1 << 20, "-p", "--n-prompt");
        int nGen = args.Int(128, 0, 1 << 20, "-n", "--n-gen");
        int reps = args.Int(5, 1, 1000, "-r", "--repetitions");
        bool profile = args.Flag("--profile");
        var sweep = PressOptions.ParseSweep(args);
        args.ThrowOnUnused(0);
        if (sweep.Count > 0 && nPrompt == 0) throw new CliException("--press needs a prompt to compress (-p > 0)");

        using var source = model.OpenSource();
        var bare = model.CreateBackend();
        var profiler = profile ? new TimedBackend(bare) : null;
        using IBackend backend = profiler ?? bare;
        using var transformer = model.CreateTransformer(source, backend);
        if (nPrompt + (sweep.Count > 0 ? nGen : 0) > transformer.Config.ContextLength)
            throw new CliException($"-p {nPrompt}{(sweep.Count > 0 ? $" + -n {nGen}" : "")} exceeds the context length {transformer.Config.ContextLength} (-c raises it)");
        var random = new Random(1234);
        int vocab = transformer.VocabSize;
        int[] prompt = Enumerable.Range(0, Math.Max(nPrompt, 1)).Select(_ => random.Next(vocab)).ToArray();

        if (sweep.Count > 0)
            RunPresses(sweep, new PressBenchmark(transformer, prompt, nGen, profiler, model.CacheType), model, source, backend, nPrompt, nGen, reps, stdout, stderr);
        else
            RunPlain(new Session(transformer, model.CacheType), prompt, model, source, backend, profiler, nPrompt, nGen, reps, stdout, stderr);
        return 0;
    }

    private static void RunPlain(Session session, int[] prompt, ModelOptions model, ModelSource source, IBackend backend,
        TimedBackend? profiler, int nPrompt, int nGen, int reps, TextWriter stdout, TextWriter stderr)
    {
        stdout.WriteLine($"| model | size | params | backend | threads | test | t/s |");
        stdout.WriteLine($"| --- | ---: | ---: | --- | ---: | --- | ---: |");
        string size = $"{source.WeightBytes / (double)(1 << 20):F2} MiB";
        string parameters = $"{source.ParameterCount / 1e6:F2} M";
        string Row(string test, double[] rates) =>
            $"| {Path.GetFileName(model.DisplayName)} | {size} | {parameters} | {backend.Name} | {model.Threads} | {test} | {MeanSd.Of(rates).Format(2)} |";
        var profiles = new List<(string Test, BackendProfile Profile, TimeSpan Wall)>();
        long peakCacheBytes = 0; // the cache at its largest, for the RSS split (each repetition resets it)

        if (nPrompt > 0)
        {
            // Warm-up, as llama-bench's: the whole prompt once, so JIT, page-in and every buffer's first touch are
            // behind us (a 16-token warm-up left the first repetition of pp512 ~30% slower).
            session.Reset();
            session.Prefill(prompt.AsSpan(0, nPrompt));
            var rates = new double[reps];
            var wall = TimeSpan.Zero;
            profiler?.Reset();
            for (int r = 0; r < reps; r++)
            {
                Fresh(session);
                var clock = Stopwatch.StartNew();
                session.Prefill(prompt.AsSpan(0, nPrompt));
                wall += clock.Elapsed;
                rates[r] = nPrompt / clock.Elapsed.TotalSeconds;
                peakCacheBytes = Math.Max(peakCacheBytes, session.Cache.AllocatedBytes);
            }
            stdout.WriteLine(Row($"pp{nPrompt}", rates));
            if (profiler is not null) profiles.Add(($"pp{nPrompt}", profiler.Snapshot(), wall));
        }
        if (nGen > 0)
        {
            // Warm-up: one untimed repetition. llama-bench decodes one token, which is enough for ahead-of-time
            // code; here it also lets tiered compilation promote the per-token code paths (with one token the first
            // timed repetition ran ~20% slower and the sd was ±37 t/s on SmolLM2).
            session.Reset();
            for (int i = 0; i < nGen; i++) session.Decode(prompt[i % prompt.Length]);
            var rates = new double[reps];
            var wall = TimeSpan.Zero;
            profiler?.Reset();
            for (int r = 0; r < reps; r++)
            {
                Fresh(session);
                int token = prompt[0];
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < nGen; i++)
                {
                    session.Decode(token);
                    token = prompt[(i + 1) % prompt.Length];
                }
                wall += clock.Elapsed;
                rates[r] = nGen / clock.Elapsed.TotalSeconds;
                peakCacheBytes = Math.Max(peakCacheBytes, session.Cache.AllocatedBytes);
            }
            stdout.WriteLine(Row($"tg{nGen}", rates));
            if (profiler is not null) profiles.Add(($"tg{nGen}", profiler.Snapshot(), wall));
            double bytesPerToken = source.WeightBytes;
            double decodeRate = rates.Average() * bytesPerToken;
            string line = $"decode reads ~{bytesPerToken / (1 << 20):F1} MiB of weights per token: {decodeRate / 1e9:F2} GB/s";
            if ((profiler?.Inner ?? backend) is CpuBackend cpu)
            {
                var read = ReadBandwidth.Measure(source.TensorNames.Select(source.GetTensor).ToList(), cpu.Threads);
                line += $" = {100 * decodeRate / read.BytesPerSecond:F0}% of the {read.BytesPerSecond / 1e9:F1} GB/s that {cpu.Threads} thread{(cpu.Threads == 1 ? "" : "s")} stream from the same bytes (read just after)";
            }
            stderr.WriteLine(line);
        }
        if (profiles.Count > 0) WriteProfile(profiles, reps, stdout);
        WriteMemory(source, peakCacheBytes, stderr);
    }

    /// <summary>
    /// Resets the session and collects the previous repetition's cache, untimed: a reset drops the cache's
    /// buffers, and without a collection every repetition's dead cache would stay in the large-object heap and
    /// count towards the peak RSS of what is, to a user, one session.
    /// </summary>
    private static void Fresh(Session session)
    {
        session.Reset();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>Time per operation per repetition, and its share of each test's wall time.</summary>
    private static void WriteProfile(List<(string Test, BackendProfile Profile, TimeSpan Wall)> profiles, int reps, TextWriter stdout)
    {
        stdout.WriteLine();
        stdout.WriteLine("| operation | " + string.Join(" | ", profiles.Select(p => $"{p.Test} ms | {p.Test} share")) + " |");
        stdout.WriteLine("| --- | " + string.Join(" | ", profiles.Select(_ => "---: | ---:")) + " |");
        foreach (var op in BackendProfile.Operations)
        {
            if (profiles.All(p => p.Profile.Calls(op) == 0)) continue;
            stdout.WriteLine($"| {op} | " + string.Join(" | ", profiles.Select(p =>
                $"{p.Profile.Elapsed(op).TotalMilliseconds / reps:F2} | {100 * p.Profile.Share(op, p.Wall):F1}%")) + " |");
            if (op != BackendOp.MatMul) continue;
            // Files mixing weight types (Q4_K_M: Q4_K and Q6_K) show which kernel the time goes to.
            var types = profiles.SelectMany(p => p.Profile.MatMulTypes).Distinct().Order().ToList();
            if (types.Count < 2) continue;
            foreach (var type in types)
                stdout.WriteLine($"| ↳ {type} weights | " + string.Join(" | ", profiles.Select(p =>
                    $"{p.Profile.MatMulElapsed(type).TotalMilliseconds / reps:F2} | {100 * p.Profile.MatMulElapsed(type) / p.Wall:F1}%")) + " |");
        }
        stdout.WriteLine("| outside the backend | " + string.Join(" | ", profiles.Select(p =>
            $"{(p.Wall - p.Profile.Total).TotalMilliseconds / reps:F2} | {100 * (1 - p.Profile.Total / p.Wall):F1}%")) + " |");
    }

    private static void RunPresses(IReadOnlyList<PressOptions> sweep, PressBenchmark benchmark, ModelOptions model, ModelSource source,
        IBackend backend, int nPrompt, int nGen, int reps, TextWriter stdout, TextWriter stderr)
    {
        var measured = benchmark.Run(sweep, reps, stderr.WriteLine);
        var results = sweep.Select((options, i) => (Options: options, Runs: measured[i])).ToList();

        bool profiled = results[0].Runs[0].DecodeAttentionSeconds is not null;
        bool decoded = nGen > 0;
        double? fullTg = results.FirstOrDefault(r => r.Options.Label == "full").Runs is { } full && decoded
            ? full.Average(run => nGen / run.DecodeSeconds)
            : null;
        stdout.WriteLine($"{Path.GetFileName(model.DisplayName)} ({source.WeightBytes / (double)(1 << 20):F2} MiB, {source.ParameterCount / 1e6:F2} M params), " +
                         $"backend {backend.Name}, {model.Threads} threads: pp{nPrompt} with the press" + (decoded ? $", then tg{nGen} at depth {nPrompt}" : "") +
                         $"; {reps} repetitions (interleaved across rows), mean ± sd");
        stdout.WriteLine();
        var header = new List<string> { "press", "compression", "pp t/s", "press ms", "press % of pp" };
        if (decoded) header.AddRange(["tg t/s", "press % of tg"]);
        if (fullTg is not null) header.Add("tg ÷ full");
        header.AddRange(["cache MiB", "cache ÷ full"]);
        if (profiled && decoded) header.Add("attention % of tg");
        stdout.WriteLine("| " + string.Join(" | ", header) + " |");
        stdout.WriteLine("| --- | " + string.Join(" | ", header.Skip(1).Select(_ => "---:")) + " |");
        foreach (var (options, runs) in results)
        {
            var row = new List<string>
            {
                options.Label,
                options.TokenBudget is { } budget ? $"{budget} tokens" : options.UsesBudget ? $"{options.Compression:0.###}" : "–",
                MeanSd.Of(runs.Select(r => nPrompt / r.PrefillSeconds).ToList()).Format(1),
                MeanSd.Of(runs.Select(r => 1e3 * r.PrefillPressSeconds).ToList()).Format(1),
                MeanSd.Of(runs.Select(r => 100 * r.PrefillPressSeconds / r.PrefillSeconds).ToList()).Format(2),
            };
            if (decoded)
            {
                var tg = MeanSd.Of(runs.Select(r => nGen / r.DecodeSeconds).ToList());
                row.Add(tg.Format(2));
                row.Add(MeanSd.Of(runs.Select(r => 100 * r.DecodePressSeconds / r.DecodeSeconds).ToList()).Format(2));
                if (fullTg is { } baseline) row.Add($"{tg.Mean / baseline:F2}");
            }
            var last = runs[^1];
            row.Add($"{last.CacheBytes / (double)(1 << 20):F1}");
            row.Add($"{(double)last.CacheBytes / last.FullCacheBytes:F3}");
            if (profiled && decoded)
                row.Add(MeanSd.Of(runs.Select(r => 100 * r.DecodeAttentionSeconds!.Value / r.DecodeSeconds).ToList()).Format(1));
            stdout.WriteLine("| " + string.Join(" | ", row) + " |");
        }
        WriteMemory(source, null, stderr);
    }

    /// <summary>Peak RSS, split into the model file, the last session's cache (when known) and the rest.</summary>
    private static void WriteMemory(ModelSource source, long? cacheBytes, TextWriter stderr)
    {
        long peak = ProcessMemory.PeakResidentBytes();
        if (cacheBytes is not { } cache)
        {
            stderr.WriteLine($"peak RSS {peak / (double)(1 << 20):F1} MiB");
            return;
        }
        long fileBytes = File.Exists(source.Path) ? new FileInfo(source.Path).Length : source.WeightBytes;
        stderr.WriteLine($"peak RSS {peak / (double)(1 << 20):F1} MiB = model file {fileBytes / (double)(1 << 20):F1} MiB + KV cache {cache / (double)(1 << 20):F1} MiB + {(peak - fileBytes - cache) / (double)(1 << 20):F1} MiB other");
    }
}
