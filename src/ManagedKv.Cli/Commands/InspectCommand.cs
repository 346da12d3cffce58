using System.Globalization;
using System.Text.Json;
using ManagedKv.Cli.Infrastructure;
using ManagedKv.Gguf;
using ManagedKv.Model.Loading;

namespace ManagedKv.Cli.Commands;

/// <summary><c>managedkv inspect</c>: architecture, hyper-parameters, tokenizer and tensor table of a model.</summary>
public sealed class InspectCommand : ICommand
{
    /// <inheritdoc/>
    public string Name => "inspect";

    /// <inheritdoc/>
    public string Summary => "show a model's architecture, hyper-parameters, tokenizer and tensors";

    /// <inheritdoc/>
    public string Usage => """
        usage: managedkv inspect [MODEL] [--json] [--metadata]
          MODEL        a .gguf file or Hugging Face folder (or -m/--model PATH); default: the embedded stories260K
          --json       machine-readable output
          --metadata   also list every metadata key (long arrays are abbreviated)
        """;

    /// <inheritdoc/>
    public IReadOnlySet<string> Switches { get; } = new HashSet<string> { "--json", "--metadata" };

    /// <inheritdoc/>
    public int Run(CommandLine args, TextWriter stdout, TextWriter stderr)
    {
        string? path = args.String("-m", "--model") ?? args.Positionals.FirstOrDefault();
        bool json = args.Flag("--json");
        bool metadata = args.Flag("--metadata");
        args.ThrowOnUnused(maxPositionals: args.String("-m", "--model") is null ? 1 : 0);

        string display = path ?? DefaultModel.DisplayName;
        path ??= DefaultModel.Path();
        ModelReport report;
        if (Directory.Exists(path))
        {
            using var source = ModelSource.Open(path);
            report = ModelReport.FromFolder(source, display);
        }
        else
        {
            if (!File.Exists(path)) throw new CliException($"model file not found: {path}");
            using var file = GgufFile.Open(path);
            report = ModelReport.FromGguf(file, display);
        }
        if (json) report.WriteJson(stdout, metadata);
        else report.WriteText(stdout, metadata);
        // A file that parses but cannot run (vocab-only, unknown architecture) is reported and flagged.
        return report.Problems.Count == 0 ? 0 : 1;
    }
}
