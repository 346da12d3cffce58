using ManagedKv.Cpu;
using ManagedKv.Gpu;
using ManagedKv.Gpu.Device;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>The options every model-running command shares: model path, backend, threads, context.</summary>
/// <param name="ModelPath">.gguf file or Hugging Face folder (null: the embedded stories260K).</param>
/// <param name="Backend">cpu, reference or gpu.</param>
/// <param name="Threads">CPU threads.</param>
/// <param name="ContextOverride">Context length override (0: the model's).</param>
/// <param name="BatchSize">Prefill micro-batch.</param>
/// <param name="Device">For <c>--backend gpu</c>: <c>cuda</c> (default) or <c>cpu</c> (ILGPU's CPU accelerator).</param>
public sealed record ModelOptions(string? ModelPath, string Backend, int Threads, int ContextOverride, int BatchSize, string Device = "cuda")
{
    /// <summary>Usage lines for these options.</summary>
    public const string Usage = """
          -m, --model FILE     .gguf file or Hugging Face folder (default: embedded stories260K)
          -t, --threads N      CPU threads (default: 2)
          -c, --ctx-size N     context length (default: the model's)
          -b, --batch-size N   prefill micro-batch (default: 512)
          --backend NAME       cpu (default: SIMD, threaded), reference (the scalar oracle) or gpu (ILGPU)
          --device NAME        with --backend gpu: cuda (default) or cpu (the same kernels on ILGPU's CPU
                               accelerator: slow, for tiny models and tests)
        """ + "\n"; // usage blocks are concatenated: each ends its last line

    /// <summary>Reads the shared options from the command line.</summary>
    public static ModelOptions Parse(CommandLine args) => new(
        args.String("-m", "--model"),
        args.String("--backend") ?? "cpu",
        args.Int(2, 1, 1024, "-t", "--threads"),
        args.Int(0, 0, int.MaxValue, "-c", "--ctx-size"),
        args.Int(512, 1, 65536, "-b", "--batch-size"),
        args.String("--device") ?? "cuda");

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
        "gpu" => CreateGpuBackend(),
        _ => throw new CliException($"unknown backend '{Backend}' (cpu, reference, gpu)"),
    };

    private GpuBackend CreateGpuBackend()
    {
        var kind = Device switch
        {
            "cuda" => GpuDeviceKind.Cuda,
            "cpu" => GpuDeviceKind.Cpu,
            _ => throw new CliException($"unknown device '{Device}' (cuda, cpu)"),
        };
        try
        {
            return new GpuBackend(kind);
        }
        catch (NoCudaDeviceException e)
        {
            throw new CliException(e.Message);
        }
    }
}
