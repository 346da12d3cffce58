using ManagedKv.Gguf;
using ManagedKv.Model.Config;

namespace ManagedKv.Model.Synthesis;

/// <summary>
/// The shape of a random-weight model for <see cref="ModelSynthesizer"/>: the hyper-parameters (which fix
/// every tensor's dimensions and the GGUF metadata), the seed the recipe used, and the precision of the
/// file the recipe quantised from.
/// </summary>
/// <param name="Id">Short name, as given to <c>managedkv synth --shape</c>.</param>
/// <param name="Config">Hyper-parameters; <see cref="ModelConfig.Name"/> becomes <c>general.name</c>.</param>
/// <param name="DefaultSeed">Seed used when none is given; the presets use the seeds of the project's reference files.</param>
/// <param name="SourceType">
/// <see cref="GgmlType.F32"/> or <see cref="GgmlType.F16"/>: the type of the matrices in the recipe's unquantised file.
/// Requesting that type writes that file as gguf-py wrote it; any other type is what llama-quantize makes from it
/// (for an F16 source, values are rounded to F16 before quantising, exactly as quantising the F16 file would).
/// </param>
public sealed record SyntheticShape(string Id, ModelConfig Config, ulong DefaultSeed, GgmlType SourceType)
{
    /// <summary>SmolLM2-135M: 30 blocks of width 576, 9 heads over 3 KV heads, vocabulary 49152, tied embeddings.</summary>
    public static SyntheticShape SmolLm2_135M { get; } = new("smollm2-135m",
        Make(ModelArchitecture.Llama, "SmolLM2-135M-shape random", embd: 576, blocks: 30, heads: 9, kvHeads: 3, ff: 1536,
             vocab: 49152, ctx: 8192, ropeBase: 100000f, eps: 1e-5f, tied: true), 2001, GgmlType.F16);

    /// <summary>Llama-3.2-1B: 16 blocks of width 2048, 32 heads over 8 KV heads, vocabulary 128256, tied (no rope_freqs tensor).</summary>
    public static SyntheticShape Llama32_1B { get; } = new("llama-3.2-1b",
        Make(ModelArchitecture.Llama, "Llama-3.2-1B-shape random", embd: 2048, blocks: 16, heads: 32, kvHeads: 8, ff: 8192,
             vocab: 128256, ctx: 131072, ropeBase: 500000f, eps: 1e-5f, tied: true), 2002, GgmlType.F16);

    /// <summary>Qwen2.5-0.5B: 24 blocks of width 896, 14 heads over 2 KV heads, q/k/v biases, vocabulary 151936, tied.</summary>
    public static SyntheticShape Qwen25_05B { get; } = new("qwen2.5-0.5b",
        Make(ModelArchitecture.Qwen2, "Qwen2.5-0.5B-shape random", embd: 896, blocks: 24, heads: 14, kvHeads: 2, ff: 4864,
             vocab: 151936, ctx: 32768, ropeBase: 1000000f, eps: 1e-6f, tied: true), 2003, GgmlType.F16);

    /// <summary>The project's tiny-llama reference model: 2 blocks of width 256, 4 heads over 2 KV heads, vocabulary 512.</summary>
    public static SyntheticShape Tiny { get; } = new("tiny",
        Make(ModelArchitecture.Llama, "tiny-llama", embd: 256, blocks: 2, heads: 4, kvHeads: 2, ff: 768,
             vocab: 512, ctx: 2048, ropeBase: 10000f, eps: 1e-5f, tied: false), 1001, GgmlType.F32);

    /// <summary>The tiny-llama-tied reference model: <see cref="Tiny"/> with tied embeddings and rope base 500000.</summary>
    public static SyntheticShape TinyTied { get; } = new("tiny-tied",
        Make(ModelArchitecture.Llama, "tiny-llama-tied", embd: 256, blocks: 2, heads: 4, kvHeads: 2, ff: 768,
             vocab: 512, ctx: 2048, ropeBase: 500000f, eps: 1e-5f, tied: true), 1002, GgmlType.F32);

    /// <summary>The tiny-qwen2 reference model: <see cref="Tiny"/>'s dimensions as qwen2, with q/k/v biases.</summary>
    public static SyntheticShape TinyQwen2 { get; } = new("tiny-qwen2",
        Make(ModelArchitecture.Qwen2, "tiny-qwen2", embd: 256, blocks: 2, heads: 4, kvHeads: 2, ff: 768,
             vocab: 512, ctx: 2048, ropeBase: 1000000f, eps: 1e-6f, tied: false), 1003, GgmlType.F32);

    /// <summary>Every preset, in the order the CLI lists them.</summary>
    public static IReadOnlyList<SyntheticShape> All { get; } = [SmolLm2_135M, Llama32_1B, Qwen25_05B, Tiny, TinyTied, TinyQwen2];

    /// <summary>The preset called <paramref name="id"/> (case-insensitive), or null.</summary>
    public static SyntheticShape? Find(string id) => All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase));

    private static ModelConfig Make(ModelArchitecture arch, string name, int embd, int blocks, int heads, int kvHeads, int ff,
                                    int vocab, int ctx, float ropeBase, float eps, bool tied)
    {
        int headDim = embd / heads;
        return new ModelConfig
        {
            Architecture = arch,
            Name = name,
            VocabSize = vocab,
            EmbeddingLength = embd,
            BlockCount = blocks,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            ValueHeadDim = headDim,
            FeedForwardLength = ff,
            ContextLength = ctx,
            RopeFreqBase = ropeBase,
            RopeDimensionCount = headDim,
            RopeStyle = ArchitectureTable.Get(arch).GgufRopeStyle,
            RopeScaling = RopeScaling.None,
            RmsNormEps = eps,
            TiedEmbeddings = tied,
        };
    }
}
