using ManagedKv.Gguf;

namespace ManagedKv.Model.Config;

/// <summary>
/// The hyper-parameters of a Llama-family model, from GGUF metadata (<see cref="FromGguf"/>) or a
/// Hugging Face config.json (<see cref="FromHuggingFace"/>). Immutable; both factories validate
/// every value and report problems as <see cref="GgufFormatException"/> naming the file and the
/// metadata key or JSON field.
/// </summary>
/// <remarks>
/// <para><b>Rope convention.</b> <see cref="RopeStyle"/> describes the weights as stored. llama.cpp's
/// converter permutes the rows of Hugging Face llama/mistral q and k projections
/// (<c>permute(w, n_head, n_head_kv)</c>: reshape to (n_head, 2, head_dim/2, n_embd), swap axes 1 and
/// 2) so that the pair (i, i + head_dim/2) of the original becomes the adjacent pair (2i, 2i+1); GGUF
/// llama/mistral therefore use <see cref="RopeStyle.Norm"/>. A model read from a Hugging Face folder
/// keeps its weights as stored (zero-copy), so it uses <see cref="RopeStyle.Neox"/> for every
/// architecture. Both give the same attention scores: q·k is invariant when the same permutation is
/// applied to q and k within each head.</para>
/// </remarks>
public sealed record ModelConfig
{
    /// <summary>Default rope base when the file does not give one (llama.cpp's default; stories260K relies on it).</summary>
    public const float DefaultRopeFreqBase = 10000f;

    /// <summary>The architecture.</summary>
    public required ModelArchitecture Architecture { get; init; }

    /// <summary>Display name (<c>general.name</c>, config.json <c>_name_or_path</c>, or the file/folder name).</summary>
    public required string Name { get; init; }

    /// <summary>Vocabulary size: rows of token_embd and of the output projection.</summary>
    public required int VocabSize { get; init; }

    /// <summary>Model width n_embd (hidden_size).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Number of transformer blocks.</summary>
    public required int BlockCount { get; init; }

    /// <summary>Query heads per block.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Key/value heads per block (grouped-query attention when fewer than <see cref="HeadCount"/>).</summary>
    public required int KvHeadCount { get; init; }

    /// <summary>Dimension of one query/key head (<c>attention.key_length</c>, head_dim, or n_embd / heads).</summary>
    public required int HeadDim { get; init; }

    /// <summary>Dimension of one value head (<c>attention.value_length</c>, or <see cref="HeadDim"/>).</summary>
    public required int ValueHeadDim { get; init; }

    /// <summary>Hidden width of the SwiGLU feed-forward network.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>Context length to run with (the trained maximum unless overridden by <see cref="WithContextLength"/>).</summary>
    public required int ContextLength { get; init; }

    /// <summary>Rope base θ (freq_base, rope_theta); 10000 when absent.</summary>
    public required float RopeFreqBase { get; init; }

    /// <summary>Number of leading head dimensions that rope rotates (even, at most <see cref="HeadDim"/>).</summary>
    public required int RopeDimensionCount { get; init; }

    /// <summary>Rope pairing for the weights as stored (see the remarks on this type).</summary>
    public required RopeStyle RopeStyle { get; init; }

    /// <summary>Rope frequency scaling.</summary>
    public required RopeScaling RopeScaling { get; init; }

    /// <summary>Epsilon of RMS normalisation.</summary>
    public required float RmsNormEps { get; init; }

    /// <summary>True when there is no separate output projection and token_embd is reused (GGUF: no output.weight).</summary>
    public required bool TiedEmbeddings { get; init; }

    /// <summary>
    /// The sliding-window size a Hugging Face config declares, recorded for information only: ManagedKv
    /// attends over the whole cache, as llama.cpp does for these architectures. Null when absent.
    /// </summary>
    public int? SlidingWindow { get; init; }

    /// <summary>
    /// True when the GGUF file carries <c>rope_freqs.weight</c>, the per-frequency divisors llama.cpp's
    /// converter precomputes for Llama 3.1-style scaling (instead of writing scaling metadata).
    /// </summary>
    public bool HasRopeFrequencyFactors { get; init; }

    /// <summary>The architecture's table row.</summary>
    public ArchitectureInfo Info => ArchitectureTable.Get(Architecture);

    /// <summary>Whether attn_q/attn_k/attn_v have biases.</summary>
    public bool HasQkvBias => Info.HasQkvBias;

    /// <summary>Query heads sharing one KV head.</summary>
    public int GroupSize => HeadCount / KvHeadCount;

    /// <summary>Width of the query projection output: heads × head_dim.</summary>
    public int QueryLength => HeadCount * HeadDim;

    /// <summary>Width of the key projection output: KV heads × head_dim.</summary>
    public int KeyLength => KvHeadCount * HeadDim;

    /// <summary>Width of the value projection output: KV heads × value head_dim.</summary>
    public int ValueLength => KvHeadCount * ValueHeadDim;

    /// <summary>A copy that runs with a different context length (e.g. shorter than trained, to save memory).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contextLength"/> is not positive.</exception>
    public ModelConfig WithContextLength(int contextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(contextLength);
        return this with { ContextLength = contextLength };
    }

    /// <summary>Reads and validates the hyper-parameters in a GGUF file's metadata.</summary>
    /// <exception cref="GgufFormatException">A key is missing, mistyped or inconsistent (the message names it).</exception>
    public static ModelConfig FromGguf(GgufFile file) => GgufConfigReader.Read(file);

    /// <summary>
    /// Reads and validates a Hugging Face config.json (LlamaForCausalLM, MistralForCausalLM,
    /// Qwen2ForCausalLM). <paramref name="configJsonPath"/> may also be the folder holding it.
    /// </summary>
    /// <exception cref="GgufFormatException">The JSON is malformed or a field is missing, mistyped or unsupported.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static ModelConfig FromHuggingFace(string configJsonPath) => HuggingFaceConfigReader.Read(configJsonPath);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name} ({Architecture}): vocab {VocabSize}, n_embd {EmbeddingLength}, {BlockCount} blocks, {HeadCount}/{KvHeadCount} heads × {HeadDim}, " +
        $"n_ff {FeedForwardLength}, ctx {ContextLength}, rope {RopeStyle} base {RopeFreqBase} dims {RopeDimensionCount} scaling {RopeScaling}, " +
        $"eps {RmsNormEps}, tied {TiedEmbeddings}";
}
