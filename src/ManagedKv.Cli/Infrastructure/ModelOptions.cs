using ManagedKv.Cpu;
using ManagedKv.Gpu;
using ManagedKv.Gpu.Device;
using ManagedKv.Model.Cache;
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
/// <param name="CacheType">KV cache storage: f32 (default, llama.cpp's <c>-ctk f32 -ctv f32</c>, the golden runs' setting) or f16.</param>
public sealed record ModelOptions(string? ModelPath, string Backend, int Threads, int ContextOverride, int BatchSize, string Device = "cuda",
    KvStorageType CacheType = KvStorageType.F32)
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
          -ctk, --cache-type-k T  KV cache storage, f32 (default) or f16 (half the bytes; llama.cpp's default);
          -ctv, --cache-type-v T  keys and values share one type, so the two must agree
        """ + "\n"; // usage blocks are concatenated: each ends its last line

    /// <summary>Reads the shared options from the command line.</summary>
    public static ModelOptions Parse(CommandLine args) => new(
        args.String("-m", "--model"),
        args.String("--backend") ?? "cpu",
        args.Int(2, 1, 1024, "-t", "--threads"),
        args.Int(0, 0, int.MaxValue, "-c", "--ctx-size"),
        args.Int(512, 1, 65536, "-b", "--batch-size"),
        args.String("--device") ?? "cuda",
        ParseCacheType(args.String("-ctk", "--cache-type-k"), args.String("-ctv", "--cache-type-v")));

    private static KvStorageType ParseCacheType(string? keys, string? values)
    {
        static KvStorageType? One(string? name, string flag) => name switch
        {
            null => null,
            "f32" => KvStorageType.F32,
            "f16" => KvStorageType.F16,
            _ => throw new CliException($"{flag} {name}: the KV cache stores f32 or f16 (quantised caches are presses: --press kivi)"),
        };
        KvStorageType? k = One(keys, "--cache-type-k"), v = One(values, "--cache-type-v");
        if (k is not null && v is not null && k != v)
            throw new CliException($"--cache-type-k {keys} and --cache-type-v {values} differ: keys and values share one storage type");
        return k ?? v ?? KvStorageType.F32;
    }

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
