using ManagedKv.Gguf;

namespace ManagedKv.Model.Config;

/// <summary>A value read from a config source, with the key or field it came from (for errors).</summary>
internal readonly record struct Sourced<T>(T? Value, string Field) where T : struct;

/// <summary>
/// The values a config reader found, before defaults and cross-checks. Both readers fill one of these,
/// so the rules (positive sizes, heads divisible, head_dim derivation, rope dimensions) live in one
/// place and every error names the source's own key or field.
/// </summary>
internal sealed class RawConfig
{
    public required string File { get; init; }
    public required ModelArchitecture Architecture { get; init; }
    public required string Name { get; init; }
    public required RopeStyle RopeStyle { get; init; }
    public required RopeScaling RopeScaling { get; init; }
    public required bool TiedEmbeddings { get; init; }
    public required Sourced<int> VocabSize { get; init; }
    public required Sourced<int> EmbeddingLength { get; init; }
    public required Sourced<int> BlockCount { get; init; }
    public required Sourced<int> HeadCount { get; init; }
    public required Sourced<int> KvHeadCount { get; init; }      // null → HeadCount
    public required Sourced<int> HeadDim { get; init; }          // null → EmbeddingLength / HeadCount
    public required Sourced<int> ValueHeadDim { get; init; }     // null → HeadDim
    public required Sourced<int> FeedForwardLength { get; init; }
    public required Sourced<int> ContextLength { get; init; }
    public required Sourced<int> RopeDimensionCount { get; init; } // null → HeadDim
    public required Sourced<float> RopeFreqBase { get; init; }   // null → 10000
    public required Sourced<float> RmsNormEps { get; init; }
    public int? SlidingWindow { get; init; }
    public bool HasRopeFrequencyFactors { get; init; }

    public ModelConfig Build()
    {
        int vocab = Positive(VocabSize);
        int embd = Positive(EmbeddingLength);
        int blocks = Positive(BlockCount);
        int heads = Positive(HeadCount);
        int kvHeads = KvHeadCount.Value is null ? heads : Positive(KvHeadCount);
        if (kvHeads > heads || heads % kvHeads != 0)
            throw Error(KvHeadCount.Field, $"{heads} query heads cannot be shared evenly by {kvHeads} KV heads (head_count must be a multiple of head_count_kv)");

        int headDim;
        if (HeadDim.Value is not null)
        {
            headDim = Positive(HeadDim);
        }
        else
        {
            if (embd % heads != 0)
                throw Error(EmbeddingLength.Field, $"embedding length {embd} is not divisible by {heads} heads and no head dimension ({HeadDim.Field}) is given");
            headDim = embd / heads;
        }
        if ((long)heads * headDim > int.MaxValue) throw Error(HeadDim.Field, $"{heads} heads × head dimension {headDim} overflows int32");
        int valueHeadDim = ValueHeadDim.Value is null ? headDim : Positive(ValueHeadDim);
        if ((long)heads * valueHeadDim > int.MaxValue) throw Error(ValueHeadDim.Field, $"{heads} heads × value head dimension {valueHeadDim} overflows int32");

        int ff = Positive(FeedForwardLength);
        int context = Positive(ContextLength);
        int ropeDims = RopeDimensionCount.Value is null ? headDim : Positive(RopeDimensionCount);
        if (ropeDims % 2 != 0 || ropeDims > headDim)
            throw Error(RopeDimensionCount.Field, $"rope dimension count {ropeDims} must be even and at most the head dimension {headDim}");

        float ropeBase = RopeFreqBase.Value ?? ModelConfig.DefaultRopeFreqBase;
        if (!(float.IsFinite(ropeBase) && ropeBase > 0)) throw Error(RopeFreqBase.Field, $"rope base must be a positive number, found {ropeBase}");
        float eps = RmsNormEps.Value ?? throw Missing(RmsNormEps.Field);
        if (!(float.IsFinite(eps) && eps > 0 && eps < 1)) throw Error(RmsNormEps.Field, $"RMS norm epsilon must be in (0, 1), found {eps}");
        if (SlidingWindow is <= 0) throw Error("sliding_window", $"must be positive, found {SlidingWindow}");

        return new ModelConfig
        {
            Architecture = Architecture,
            Name = Name,
            VocabSize = vocab,
            EmbeddingLength = embd,
            BlockCount = blocks,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            ValueHeadDim = valueHeadDim,
            FeedForwardLength = ff,
            ContextLength = context,
            RopeFreqBase = ropeBase,
            RopeDimensionCount = ropeDims,
            RopeStyle = RopeStyle,
            RopeScaling = RopeScaling,
            RmsNormEps = eps,
            TiedEmbeddings = TiedEmbeddings,
            SlidingWindow = SlidingWindow,
            HasRopeFrequencyFactors = HasRopeFrequencyFactors,
        };
    }

    private int Positive(Sourced<int> value) =>
        value.Value is not { } v ? throw Missing(value.Field)
        : v > 0 ? v : throw Error(value.Field, $"must be positive, found {v}");

    private GgufFormatException Missing(string field) => Error(field, "required value is missing");

    private GgufFormatException Error(string field, string problem) => new(File, field, -1, problem);
}
