using System.Diagnostics;
using System.Globalization;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Model.Synthesis;

namespace ManagedKv.Cli.Commands;

/// <summary>
/// <c>managedkv synth</c>: writes a random-weight GGUF with the exact shape, tensor types and layout of a real
/// model quantised by llama-quantize (for benchmarks), following the reference files' recipe bit for bit.
/// </summary>
public sealed class SynthCommand : ICommand
{
    /// <summary>Write a progress line only for files with at least this much tensor data.</summary>
    private const long ProgressThresholdBytes = 32L << 20;

    /// <inheritdoc/>
    public string Name => "synth";

    /// <inheritdoc/>
    public string Summary => "write a random-weight GGUF shaped like a real model (for benchmarks)";

    /// <inheritdoc/>
    public string Usage =>
        "usage: managedkv synth --shape NAME --type TYPE -o FILE [--seed N] [-t N]\n" +
        $"  --shape NAME         {string.Join(" | ", SyntheticShape.All.Select(s => s.Id))}\n" +
        $"  --type TYPE          {string.Join(" ", LlamaFileTypes.All.Select(LlamaFileTypes.Name))}\n" +
        "                       (tensor types chosen as llama-quantize chooses them for that mix)\n" +
        "  -o, --output FILE    the .gguf to write (missing folders are created)\n" +
        $"  --seed N             NumPy seed (default per shape: {string.Join(", ", SyntheticShape.All.Select(s => $"{s.Id} {s.DefaultSeed}"))})\n" +
        "  -t, --threads N      threads (default: all cores; the file does not depend on it)\n" +
        "  The tokenizer is stories260K's, padded to the shape's vocabulary with <pad_N> tokens.\n";

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string>();

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        string? shapeName = args.String("--shape");
        string? typeName = args.String("--type");
        string? output = args.String("-o", "--output");
        string? seedText = args.String("--seed");
        int threads = args.Int(Environment.ProcessorCount, 1, 1024, "-t", "--threads");
        args.ThrowOnUnused(0);

        if (shapeName is null) throw new CliException($"synth needs --shape ({string.Join(", ", SyntheticShape.All.Select(s => s.Id))})");
        var shape = SyntheticShape.Find(shapeName)
            ?? throw new CliException($"unknown shape '{shapeName}' (shapes: {string.Join(", ", SyntheticShape.All.Select(s => s.Id))})");
        if (typeName is null) throw new CliException($"synth needs --type ({string.Join(", ", LlamaFileTypes.All.Select(LlamaFileTypes.Name))})");
        var fileType = LlamaFileTypes.Find(typeName)
            ?? throw new CliException($"unknown type '{typeName}' (types: {string.Join(", ", LlamaFileTypes.All.Select(LlamaFileTypes.Name))})");
        if (string.IsNullOrEmpty(output)) throw new CliException("synth needs -o FILE (the .gguf to write)");
        ulong? seed = null;
        if (seedText is not null)
        {
            if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong s))
                throw new CliException($"--seed expects a non-negative integer, got '{seedText}'");
            seed = s;
        }
        if (Directory.Exists(output)) throw new CliException($"{output} is a folder; -o names the .gguf file to write");

        var clock = Stopwatch.StartNew();
        var progress = new ProgressLine(stderr, clock);
        var synthesizer = new ModelSynthesizer(shape, fileType, DefaultModel.Path(), seed)
        {
            MaxDegreeOfParallelism = threads,
            Progress = progress,
        };
        progress.Enabled = synthesizer.DataBytes >= ProgressThresholdBytes;

        string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (folder is not null) Directory.CreateDirectory(folder);
        synthesizer.WriteTo(output);
        progress.Finish();

        long size = new FileInfo(output).Length;
        var types = synthesizer.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} ×{g.Count()}");
        stdout.WriteLine($"wrote {output}: {size:N0} bytes in {clock.Elapsed.TotalSeconds:F1} s");
        stdout.WriteLine($"  shape {shape.Id} ({shape.Config.Name}), {synthesizer.ParameterCount:N0} parameters, " +
                         $"type {LlamaFileTypes.Name(fileType)} (general.file_type {(int)fileType}), seed {synthesizer.Seed}");
        stdout.WriteLine($"  tensors: {string.Join(", ", types)}");
        return 0;
    }

    /// <summary>One stderr line, rewritten in place (at most a few times a second): phase, percentage and ETA.</summary>
    private sealed class ProgressLine(TextWriter stderr, Stopwatch clock) : IProgress<SynthesisProgress>
    {
        private TimeSpan? _lastDraw;
        private TimeSpan _phaseStart;
        private SynthesisPhase? _phase;
        private bool _drawn;

        public bool Enabled { get; set; }

        public void Report(SynthesisProgress value)
        {
            if (!Enabled) return;
            var now = clock.Elapsed;
            if (value.Phase != _phase)
            {
                _phase = value.Phase;
                _phaseStart = now;
            }
            bool last = value.Done >= value.Total;
            if (!last && _lastDraw is { } previous && now - previous < TimeSpan.FromMilliseconds(250)) return;
            _lastDraw = now;
            double fraction = value.Fraction;
            double elapsed = (now - _phaseStart).TotalSeconds;
            string eta = fraction > 0.01 && !last ? $", ETA {elapsed / fraction - elapsed:F0} s" : "";
            string what = value.Phase == SynthesisPhase.Scanning
                ? "scanning the random stream"
                : $"writing {value.Done / 1048576.0:F1}/{value.Total / 1048576.0:F1} MiB";
            stderr.Write($"\rsynth: {what} {fraction * 100,5:F1}%{eta}        ");
            stderr.Flush();
            _drawn = true;
        }

        public void Finish()
        {
            if (_drawn) stderr.WriteLine();
        }
    }
}
