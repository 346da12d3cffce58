using ManagedKv.Cpu;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>The options every model-running command shares: model path, backend, threads, context.</summary>
public sealed record ModelOptions(string? ModelPath, string Backend, int Threads, int ContextOverride, int BatchSize)
{
    /// <summary>Usage lines for these options.</summary>
    public const string Usage = """
          -m, --model FILE     .gguf file or Hugging Face folder (default: embedded stories260K)
          -t, --threads N      CPU threads (default: 2)
          -c, --ctx-size N     context length (default: the model's)
          -b, --batch-size N   prefill micro-batch (default: 512)
          --backend NAME       cpu (default: SIMD, threaded) or reference (the scalar oracle)
        """;

    /// <summary>Reads the shared options from the command line.</summary>
    public static ModelOptions Parse(CommandLine args) => new(
        args.String("-m", "--model"),
        args.String("--backend") ?? "cpu",
        args.Int(2, 1, 1024, "-t", "--threads"),
        args.Int(0, 0, int.MaxValue, "-c", "--ctx-size"),
        args.Int(512, 1, 65536, "-b", "--batch-size"));

    /// <summary>Name to show for the model.</summary>
    public string DisplayName => ModelPath ?? DefaultModel.DisplayName;

    /// <summary>Opens the model (the embedded default when no path was given).</summary>
    public ModelSource OpenSource()
    {
        string path = ModelPath ?? DefaultModel.Path();
        if (!File.Exists(path) && !Directory.Exists(path)) throw new CliException($"model not found: {path}");
        return ModelSource.Open(path);
    }

    /// <summary>Binds the model to a backend with the chosen batch size and context length.</summary>
    public Transformer CreateTransformer(ModelSource source, IBackend backend) => new(source, backend, BatchSize, ContextOverride);

    /// <summary>Creates the selected backend.</summary>
    public IBackend CreateBackend() => Backend switch
    {
        "cpu" => new CpuBackend(Threads),
        "reference" => new ReferenceBackend(),
        _ => throw new CliException($"unknown backend '{Backend}' (cpu, reference)"),
    };
}
