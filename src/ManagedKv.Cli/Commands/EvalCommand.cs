using System.Globalization;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Evaluation.Fidelity;
using ManagedKv.Model.Evaluation.Results;
using ManagedKv.Model.Evaluation.Retrieval;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;

namespace ManagedKv.Cli.Commands;

/// <summary>
/// <c>managedkv eval [fidelity|passkey|needle]</c>: runs every press × compression ratio over an evaluation and
/// writes a Markdown table (stdout and <c>KIND.md</c>), a resumable JSON file with every cell and its settings,
/// and PNG/SVG plots.
/// </summary>
public sealed class EvalCommand : ICommand
{
    private const string DefaultRatios = "0,0.25,0.5,0.75,0.875";

    /// <inheritdoc/>
    public string Name => "eval";

    /// <inheritdoc/>
    public string Summary => "evaluate presses: fidelity to the full cache, passkey and needle retrieval";

    /// <inheritdoc/>
    public string Usage => "usage: managedkv eval [fidelity|passkey|needle] [options]   (default: fidelity)\n" + ModelOptions.Usage + $"""
          --presses LIST       presses to compare: all, or a comma list; a+b composes (default: all)
          --compression LIST   ratios, fractions of the cache removed (default: {DefaultRatios})
          --press-arg K=V      a press parameter, given to every chosen press that declares it (repeatable)
          --seed N             seed of passkeys and seeded presses (default: 0)
          -o, --output DIR     results folder (default: eval-results/KIND); an existing run there is resumed
          --fresh              start over instead of resuming
          --no-plots           skip the PNG/SVG plots
        fidelity (KL divergence and top-1 agreement against the full cache, perplexity, cache bytes):
          --text FILE          text to score (default: the built-in stories text)
          --context N          tokens prefilled and compressed per window (default: 256)
          --continuation N     tokens scored teacher-forced after it (default: 64)
          --windows N          at most N windows of the text, 0 = all (default: 8)
        passkey (LagKV's prompts: grass/sky/sun filler, "The pass key is K. Remember it. K is the pass key.")
        and needle (a needle sentence with a key, default "The special magic number is K."):
          --digits N           digits of the key (default: passkey 64, needle 7)
          --lengths N          filler lengths, up to the most that fits the context (default: 4)
          --max-words N        cap the longest filler (default: what fits)
          --depths N           needle depths from 0 to 1 (default: 5)
          --samples N          keys per length × depth (default: 1)
          --max-new-tokens N   answer length limit (default: the key's tokens + 8)
          --needle TEXT        needle: the needle sentence, {"{key}"} marks the key
          --question TEXT      needle: the question after the haystack (the answer follows it)
          --instruction TEXT   needle: text before the haystack (default: none)
          --filler FILE        needle: haystack text repeated as needed (default: grass/sky/sun)
        """;

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string> { "--fresh", "--no-plots" };

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        string kind = args.Positionals.Count > 0 ? args.Positionals[0] : "fidelity";
        if (kind is not ("fidelity" or "passkey" or "needle")) throw new CliException($"unknown evaluation '{kind}' (fidelity, passkey, needle)");
        var common = CommonOptions.Parse(args, kind);
        return kind == "fidelity" ? RunFidelity(args, common, stdout, stderr) : RunRetrieval(args, kind, common, stdout, stderr);
    }

    private static int RunFidelity(CommandLine args, CommonOptions common, TextWriter stdout, TextWriter stderr)
    {
        string? textPath = args.String("--text");
        var options = new FidelityOptions
        {
            ContextTokens = args.Int(256, 1, 1 << 24, "--context"),
            ContinuationTokens = args.Int(64, 1, 1 << 24, "--continuation"),
            MaxWindows = args.Int(8, 0, int.MaxValue, "--windows"),
        };
        args.ThrowOnUnused(1);
        if (textPath is not null && !File.Exists(textPath)) throw new CliException($"text not found: {textPath}");
        string text = textPath is null ? DefaultText.Read() : File.ReadAllText(textPath);

        using var run = common.Open();
        var tokens = run.Source.CreateTokenizer().Encode(text, addSpecial: true);
        var evaluator = Checked(() => new FidelityEvaluator(run.Model, options));
        var windows = Checked(() => TextWindows.Cut(tokens, options.WindowTokens, run.Source.CreateTokenizer().BosId, options.MaxWindows));
        var parameters = Sorted(
            ("context", options.ContextTokens), ("continuation", options.ContinuationTokens), ("maxWindows", options.MaxWindows),
            ("windows", windows.Count), ("textTokens", tokens.Length));
        parameters["text"] = textPath ?? DefaultText.DisplayName;
        parameters["textSha256"] = ModelFingerprint.TextSha256(text);
        var store = run.OpenStore<FidelityCell>(parameters);

        stderr.WriteLine($"fidelity: {common.Settings.Count} press settings × {windows.Count} windows of {options.ContextTokens} + {options.ContinuationTokens} tokens; results in {common.Output}");
        EvalProgressDisplay.Run("fidelity", stdout, stderr, progress => store.Fill(evaluator.Plan(windows, common.Settings), progress));

        var rows = FidelitySummary.Rows(common.Settings, store.Cells);
        string table = FidelitySummary.Table(rows);
        var files = new List<string> { store.Path, WriteTable(common, table) };
        if (common.Plots)
        {
            // Decode-time presses (LagKV, H2O, TOVA, KIVI) keep compressing during the continuation, so the cache the
            // scored predictions saw is best described by its size at the end of the window.
            var x = "cache compression at the end of the window (1 − cache bytes / full cache bytes)";
            PlotSeries Series(string press, Func<FidelityRow, double> y) => SeriesOf(rows, r => r.Setting.Name, press, r => 1 - r.FinalRatio, y);
            var presses = rows.Select(r => r.Setting.Name).Distinct().ToList();
            string model = run.ModelName;
            files.AddRange(EvalPlots.Lines(Path.Combine(common.Output, "fidelity-kl"), $"KL divergence from the full cache — {model}", x,
                "mean KL(full ‖ compressed), nats/token", presses.Select(p => Series(p, r => r.KlDivergence)).ToList()));
            files.AddRange(EvalPlots.Lines(Path.Combine(common.Output, "fidelity-top1"), $"Top-1 agreement with the full cache — {model}", x,
                "top-1 agreement", presses.Select(p => Series(p, r => r.Top1Agreement)).ToList()));
            files.AddRange(EvalPlots.Lines(Path.Combine(common.Output, "fidelity-perplexity"), $"Perplexity of the continuation — {model}", x,
                "perplexity", presses.Select(p => Series(p, r => r.Perplexity)).ToList(), logY: true));
        }
        Finish(stdout, stderr, table, files);
        return 0;
    }

    private static int RunRetrieval(CommandLine args, string kind, CommonOptions common, TextWriter stdout, TextWriter stderr)
    {
        int digits = args.Int(kind == "passkey" ? 64 : 7, 1, 4096, "--digits");
        int lengthCount = args.Int(4, 1, 1000, "--lengths");
        int maxWords = args.Int(0, 0, int.MaxValue, "--max-words");
        int depthCount = args.Int(5, 1, 1000, "--depths");
        int samples = args.Int(1, 1, 1000, "--samples");
        int maxNew = args.Int(0, 0, 1 << 20, "--max-new-tokens");
        string? needle = null, question = null, instruction = null, fillerPath = null;
        if (kind == "needle")
        {
            needle = args.String("--needle");
            question = args.String("--question");
            instruction = args.String("--instruction");
            fillerPath = args.String("--filler");
        }
        args.ThrowOnUnused(1);
        if (fillerPath is not null && !File.Exists(fillerPath)) throw new CliException($"filler not found: {fillerPath}");
        var task = Checked(() => kind == "passkey"
            ? RetrievalTask.Passkey(digits)
            : RetrievalTask.Needle(needle, question, instruction, fillerPath is null ? null : File.ReadAllText(fillerPath), digits));

        using var run = common.Open();
        var evaluator = new RetrievalEvaluator(run.Model, run.Source.CreateTokenizer(), task, common.Seed, maxNew);
        var grid = Checked(() => evaluator.SizeGrid(lengthCount, depthCount, samples, maxWords));
        var parameters = Sorted(("digits", digits), ("samples", samples), ("maxNewTokens", evaluator.MaxNewTokens), ("contextLength", run.Model.Config.ContextLength));
        parameters["lengths"] = string.Join(",", grid.Lengths);
        parameters["depths"] = string.Join(",", grid.Depths.Select(d => d.ToString("R", CultureInfo.InvariantCulture)));
        parameters["instruction"] = task.Instruction;
        parameters["needle"] = task.NeedleTemplate;
        parameters["question"] = task.Question;
        parameters["fillerSha256"] = ModelFingerprint.TextSha256(task.Filler);
        var store = run.OpenStore<RetrievalCell>(parameters);

        stderr.WriteLine($"{kind}: {common.Settings.Count} press settings × {grid.Lengths.Count} lengths ({string.Join(", ", grid.Lengths)} words) × {grid.Depths.Count} depths × {samples} keys; results in {common.Output}");
        EvalProgressDisplay.Run(kind, stdout, stderr, progress => store.Fill(evaluator.Plan(grid, common.Settings), progress));

        var rows = RetrievalSummary.Rows(common.Settings, grid, store.Cells);
        string table = RetrievalSummary.Table(rows);
        var files = new List<string> { store.Path, WriteTable(common, table) };
        if (common.Plots)
        {
            // The passkey's partial match shows progress a weak model makes; a needle either is found or not.
            bool partial = kind == "passkey";
            string metric = partial ? "partial match" : "exact match";
            var presses = rows.Select(r => r.Setting.Name).Distinct().ToList();
            PlotSeries Series(string press, Func<RetrievalRow, double> y) => SeriesOf(rows, r => r.Setting.Name, press, r => 1 - r.EffectiveRatio, y);
            files.AddRange(EvalPlots.Lines(Path.Combine(common.Output, $"{kind}-exact"), $"{kind}: exact match — {run.ModelName}",
                "cache compression (1 − cache bytes / full cache bytes)", "exact match", presses.Select(p => Series(p, r => r.ExactMatch)).ToList()));
            if (partial)
                files.AddRange(EvalPlots.Lines(Path.Combine(common.Output, $"{kind}-partial"), $"{kind}: partial match — {run.ModelName}",
                    "cache compression (1 − cache bytes / full cache bytes)", "partial match", presses.Select(p => Series(p, r => r.PartialMatch)).ToList()));
            foreach (var row in rows)
                files.AddRange(EvalPlots.Heatmap(Path.Combine(common.Output, "heatmaps", $"{kind}-{FileSafe(row.Setting.Key)}"),
                    $"{kind} {metric}: {row.Setting.Name} at compression {row.Setting.RatioText}", partial ? row.PartialByCell : row.ExactByCell,
                    grid.Depths, grid.Lengths, metric));
        }
        Finish(stdout, stderr, table, files);
        return 0;
    }

    private static void Finish(TextWriter stdout, TextWriter stderr, string table, IReadOnlyList<string> files)
    {
        stdout.Write(table);
        stdout.Flush();
        int plots = files.Count(f => f.EndsWith(".png", StringComparison.Ordinal));
        stderr.WriteLine($"wrote {files[0]}, {files[1]}{(plots > 0 ? $" and {plots} plots (PNG + SVG)" : "")}");
    }

    /// <summary>One press's line: its rows' compression against a score.</summary>
    private static PlotSeries SeriesOf<TRow>(IEnumerable<TRow> rows, Func<TRow, string> press, string name, Func<TRow, double> x, Func<TRow, double> y)
    {
        var mine = rows.Where(r => press(r) == name).ToList();
        return new PlotSeries(name, mine.Select(x).ToArray(), mine.Select(y).ToArray());
    }

    private static string WriteTable(CommonOptions common, string table)
    {
        string path = Path.Combine(common.Output, common.Kind + ".md");
        File.WriteAllText(path, table);
        return path;
    }

    private static string FileSafe(string key) =>
        new(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+' ? c : '_').ToArray());

    private static SortedDictionary<string, string> Sorted(params (string Name, int Value)[] values)
    {
        var sorted = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values) sorted[name] = value.ToString(CultureInfo.InvariantCulture);
        return sorted;
    }

    /// <summary>Runs a library call whose argument errors are the user's (bad sizes, prompts that do not fit).</summary>
    private static T Checked<T>(Func<T> make)
    {
        try { return make(); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
    }

    /// <summary>The options every evaluation shares.</summary>
    private sealed record CommonOptions(string Kind, ModelOptions Model, IReadOnlyList<PressConfiguration> Settings, int Seed, string Output, bool Fresh, bool Plots)
    {
        public static CommonOptions Parse(CommandLine args, string kind)
        {
            var model = ModelOptions.Parse(args);
            var specs = (args.String("--presses") ?? "all").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var ratioText = args.String("--compression") ?? DefaultRatios;
            var ratios = new List<double>();
            foreach (string r in ratioText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= 0 && v < 1))
                    throw new CliException($"--compression expects ratios in [0, 1), got '{r}'");
                ratios.Add(v);
            }
            var arguments = PressOptions.ParseArguments(args);
            int seed = args.Int(0, int.MinValue, int.MaxValue, "--seed");
            string output = args.String("-o", "--output") ?? Path.Combine("eval-results", kind);
            bool fresh = args.Flag("--fresh"), plots = !args.Flag("--no-plots");
            var settings = Checked(() => PressConfiguration.Expand(specs, ratios, arguments, seed));
            return new CommonOptions(kind, model, settings, seed, output, fresh, plots);
        }

        public EvalRun Open() => new(this);
    }

    /// <summary>An opened model bound to a backend, plus the run's identity for its result file.</summary>
    private sealed class EvalRun : IDisposable
    {
        private readonly CommonOptions _options;
        private readonly IBackend _backend;

        public EvalRun(CommonOptions options)
        {
            _options = options;
            Source = options.Model.OpenSource();
            _backend = options.Model.CreateBackend();
            Model = options.Model.CreateTransformer(Source, _backend);
        }

        public ModelSource Source { get; }

        public Transformer Model { get; }

        public string ModelName => Path.GetFileName(_options.Model.ModelPath ?? "stories260K.gguf");

        public ResultStore<TCell> OpenStore<TCell>(SortedDictionary<string, string> parameters) where TCell : IEvalCell
        {
            parameters["batch"] = Model.MaxBatch.ToString(CultureInfo.InvariantCulture);
            string version = typeof(EvalCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
            var settings = new EvalSettings(_options.Kind, version, _options.Model.DisplayName, ModelFingerprint.Sha256(Source.Path),
                $"{_backend.Name}, {_options.Model.Threads} threads", _options.Seed, EvalSettings.Describe(_options.Settings), parameters);
            Directory.CreateDirectory(_options.Output);
            return ResultStore<TCell>.Open(Path.Combine(_options.Output, _options.Kind + ".json"), settings, _options.Fresh);
        }

        public void Dispose()
        {
            Model.Dispose();
            _backend.Dispose();
            Source.Dispose();
        }
    }
}
