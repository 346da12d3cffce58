using System.Diagnostics;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cli.Commands;

/// <summary><c>managedkv bench</c>: prefill and decode throughput, mean ± sd over repetitions, like llama-bench.</summary>
public sealed class BenchCommand : ICommand
{
    /// <inheritdoc/>
    public string Name => "bench";

    /// <inheritdoc/>
    public string Summary => "measure prefill (pp) and decode (tg) tokens/s like llama-bench";

    /// <inheritdoc/>
    public string Usage => "usage: managedkv bench [options]\n" + ModelOptions.Usage + """
          -p, --n-prompt N     prompt tokens for the prefill test (default: 512; 0 = skip)
          -n, --n-gen N        tokens for the decode test (default: 128; 0 = skip)
          -r, --repetitions N  repetitions (default: 5)
        """;

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string>();

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        var model = ModelOptions.Parse(args);
        int nPrompt = args.Int(512, 0, 1 << 20, "-p", "--n-prompt");
        int nGen = args.Int(128, 0, 1 << 20, "-n", "--n-gen");
        int reps = args.Int(5, 1, 1000, "-r", "--repetitions");
        args.ThrowOnUnused(0);

        using var source = model.OpenSource();
        using var backend = model.CreateBackend();
        using var transformer = model.CreateTransformer(source, backend);
        var session = new Session(transformer);
        var random = new Random(1234);
        int vocab = transformer.VocabSize;
        int[] prompt = Enumerable.Range(0, Math.Max(nPrompt, 1)).Select(_ => random.Next(vocab)).ToArray();

        stdout.WriteLine($"| model | size | params | backend | threads | test | t/s |");
        stdout.WriteLine($"| --- | ---: | ---: | --- | ---: | --- | ---: |");
        string size = $"{source.WeightBytes / (double)(1 << 20):F2} MiB";
        string parameters = $"{source.ParameterCount / 1e6:F2} M";
        string Row(string test, double[] rates) =>
            $"| {Path.GetFileName(model.DisplayName)} | {size} | {parameters} | {backend.Name} | {model.Threads} | {test} | {Mean(rates):F2} ± {StdDev(rates):F2} |";

        if (nPrompt > 0)
        {
            session.Reset();
            session.Prefill(prompt.AsSpan(0, Math.Min(nPrompt, 16))); // warm-up: JIT, page-in
            var rates = new double[reps];
            for (int r = 0; r < reps; r++)
            {
                session.Reset();
                var clock = Stopwatch.StartNew();
                session.Prefill(prompt.AsSpan(0, nPrompt));
                rates[r] = nPrompt / clock.Elapsed.TotalSeconds;
            }
            stdout.WriteLine(Row($"pp{nPrompt}", rates));
        }
        if (nGen > 0)
        {
            session.Reset();
            session.Decode(prompt[0]); // warm-up
            var rates = new double[reps];
            for (int r = 0; r < reps; r++)
            {
                session.Reset();
                int token = prompt[0];
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < nGen; i++)
                {
                    session.Decode(token);
                    token = prompt[(i + 1) % prompt.Length];
                }
                rates[r] = nGen / clock.Elapsed.TotalSeconds;
            }
            stdout.WriteLine(Row($"tg{nGen}", rates));
            double bytesPerToken = source.WeightBytes;
            stderr.WriteLine($"decode reads ~{bytesPerToken / (1 << 20):F1} MiB of weights per token: {Mean(rates) * bytesPerToken / 1e9:F2} GB/s");
        }
        long fileBytes = File.Exists(source.Path) ? new FileInfo(source.Path).Length : source.WeightBytes;
        long cacheBytes = session.Cache.AllocatedBytes;
        long peak = ProcessMemory.PeakResidentBytes();
        stderr.WriteLine($"peak RSS {peak / (double)(1 << 20):F1} MiB = model file {fileBytes / (double)(1 << 20):F1} MiB + KV cache {cacheBytes / (double)(1 << 20):F1} MiB + {(peak - fileBytes - cacheBytes) / (double)(1 << 20):F1} MiB other");
        return 0;
    }

    private static double Mean(double[] x) => x.Average();

    private static double StdDev(double[] x)
    {
        if (x.Length < 2) return 0;
        double m = Mean(x);
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Length - 1));
    }
}
