using ManagedKv.Gguf;
using ManagedKv.Model.Config;

namespace ManagedKv.Model.Synthesis;

/// <summary>
/// Which type llama-quantize gives each tensor of a dense llama/qwen2 model for a <see cref="LlamaFileType"/>
/// without an importance matrix: a port of llama.cpp's <c>llama_tensor_get_type</c> (src/llama-quant.cpp) for
/// the mixes ManagedKv supports. The rules, in order:
/// <list type="number">
/// <item>Tensors llama-quantize never quantises (1-D tensors, norms, anything not named <c>*weight</c>) keep their type.</item>
/// <item>F32/F16/BF16 mixes store every other tensor in that type.</item>
/// <item><c>output.weight</c>, and <c>token_embd.weight</c> when the model has no output.weight (tied embeddings),
/// become Q6_K, except that Q8_0 stays Q8_0 and a row length that is not a multiple of the mix's block size gives Q8_0.</item>
/// <item>attn_v: Q2_K → Q4_K if heads/KV heads ≥ 4 else Q3_K; Q3_K_M → Q5_K for the first two, then Q4_K;
/// Q3_K_L → Q5_K; Q4_K_M/Q5_K_M → Q6_K on "use more bits" layers; Q4_K_S → Q5_K for the first four;
/// 70B-class models bump Q3_K/Q4_K to Q5_K.</item>
/// <item>ffn_down (layer i of n): Q2_K → Q3_K; Q3_K_M → Q5_K if i &lt; n/16 else Q4_K; Q3_K_L → Q5_K;
/// Q4_K_M/Q5_K_M → Q6_K on "use more bits" layers; Q4_K_S → Q5_K if i &lt; n/8.</item>
/// <item>attn_output: Q2_K → Q3_K, Q3_K_M → Q4_K, Q3_K_L → Q5_K. (Fused attn_qkv and attn_kv_b count as attn_v.)</item>
/// <item>Fallback when the row length is not a multiple of the chosen type's block size (llama.cpp's
/// <c>tensor_type_fallback</c>): Q2_K/Q3_K → Q4_0, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, and F16 if even that does not fit.</item>
/// </list>
/// "Use more bits" layers are i &lt; n/8, i ≥ 7n/8 and every third layer in between ((i − n/8) mod 3 = 2).
/// Counters run over tensors in llama-quantize's processing order (<see cref="CompareTensorNames"/>), as in llama.cpp.
/// </summary>
public static class LlamaQuantMix
{
    private enum Category { TokenEmbedding, AttentionQ, AttentionV, AttentionK, AttentionQkv, AttentionKvB, AttentionOutput, FfnUp, FfnGate, FfnDown, Output, Other }

    // Substrings of names llama-quantize never quantises (tensor_allows_quantization); most belong to other
    // architectures but are kept so the rule is the same as llama.cpp's for any name.
    private static readonly string[] NeverQuantised =
    [
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
        "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
        ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    ];

    /// <summary>
    /// The type of every tensor of a model with hyper-parameters <paramref name="config"/> quantised to
    /// <paramref name="fileType"/>, keyed by tensor name.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor's row length fits neither its type nor any fallback (llama-quantize refuses such a model too).</exception>
    public static IReadOnlyDictionary<string, GgmlType> Choose(LlamaFileType fileType, ModelConfig config, IEnumerable<SourceTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tensors);
        var ordered = tensors.OrderBy(t => t.Name, Comparer<string>.Create(CompareTensorNames)).ToList();
        var state = new State
        {
            TiedEmbeddings = !ordered.Any(t => GetCategory(t.Name) == Category.Output),
            AttentionVCount = ordered.Count(t => IsAttentionV(GetCategory(t.Name))),
            FfnDownCount = config.BlockCount,
        };
        var result = new Dictionary<string, GgmlType>(StringComparer.Ordinal);
        foreach (var tensor in ordered) result.Add(tensor.Name, ChooseOne(fileType, config, tensor, state));
        return result;
    }

    /// <summary>
    /// llama.cpp's tensor order (<c>weight_name_comparer</c>, the order llama-quantize writes): tensors outside
    /// the blocks first, then block by block in numeric order; within each group by name (ordinal).
    /// </summary>
    public static int CompareTensorNames(string? a, string? b)
    {
        if (a is null || b is null) return a is null ? (b is null ? 0 : -1) : 1;
        int layerA = BlockIndex(a), layerB = BlockIndex(b);
        return layerA != layerB ? layerA.CompareTo(layerB) : string.CompareOrdinal(a, b);
    }

    /// <summary>Whether llama-quantize may change this tensor's type at all (<c>tensor_allows_quantization</c>).</summary>
    public static bool AllowsQuantization(SourceTensor tensor)
    {
        if (DimensionCount(tensor.Dimensions) < 2) return false;
        string name = tensor.Name;
        if (!name.EndsWith("weight", StringComparison.Ordinal)) return false;
        if (name is "position_embd.weight" or "token_types.weight") return false;
        foreach (string part in NeverQuantised)
            if (name.Contains(part, StringComparison.Ordinal)) return false;
        return true;
    }

    /// <summary>llama.cpp's <c>use_more_bits</c>: the layers Q4_K_M and Q5_K_M give more bits.</summary>
    public static bool UseMoreBits(int layer, int layerCount) =>
        layer < layerCount / 8 || layer >= 7 * layerCount / 8 || (layer - layerCount / 8) % 3 == 2;

    private sealed class State
    {
        public bool TiedEmbeddings;
        public int AttentionVCount;
        public int AttentionVIndex;
        public int FfnDownCount;
        public int FfnDownIndex;
    }

    private static GgmlType ChooseOne(LlamaFileType ftype, ModelConfig config, SourceTensor tensor, State state)
    {
        var category = GetCategory(tensor.Name);
        if (!AllowsQuantization(tensor)) return tensor.Type;
        GgmlType type = LlamaFileTypes.DefaultTensorType(ftype);
        if (!GgmlTypeInfo.Get(type).IsQuantized) return type;

        long rowLength = tensor.Dimensions[0];
        int gqa = config.HeadCount / config.KvHeadCount;
        switch (category)
        {
            case Category.Output:
            case Category.TokenEmbedding when state.TiedEmbeddings:
                // The output projection (which token_embd is, when tied) gets Q6_K, or Q8_0 where Q6_K cannot apply.
                if (rowLength % GgmlTypeInfo.Get(type).BlockSize != 0) type = GgmlType.Q8_0;
                else if (type != GgmlType.Q8_0) type = GgmlType.Q6_K;
                break;
            case Category.TokenEmbedding:
                break;   // only the i-quant and ternary mixes change token_embd
            case Category.AttentionV or Category.AttentionQkv or Category.AttentionKvB:
                int iv = state.AttentionVIndex, nv = state.AttentionVCount;
                if (ftype == LlamaFileType.Q2_K) type = gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                else if (ftype == LlamaFileType.Q3_K_M) type = iv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (ftype == LlamaFileType.Q3_K_L) type = GgmlType.Q5_K;
                else if (ftype is LlamaFileType.Q4_K_M or LlamaFileType.Q5_K_M && UseMoreBits(iv, nv)) type = GgmlType.Q6_K;
                else if (ftype == LlamaFileType.Q4_K_S && iv < 4) type = GgmlType.Q5_K;
                // attn_v is 8× smaller than attn_q in 70B-class models, so more bits there are cheap.
                if (IsLlamaCpp70B(config) && type is GgmlType.Q3_K or GgmlType.Q4_K) type = GgmlType.Q5_K;
                state.AttentionVIndex++;
                break;
            case Category.FfnDown:
                int layer = state.FfnDownIndex, layers = state.FfnDownCount;
                if (ftype == LlamaFileType.Q2_K) type = GgmlType.Q3_K;
                else if (ftype == LlamaFileType.Q3_K_M) type = layer < layers / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (ftype == LlamaFileType.Q3_K_L) type = GgmlType.Q5_K;
                else if (ftype == LlamaFileType.Q4_K_M) { if (UseMoreBits(layer, layers)) type = GgmlType.Q6_K; }
                else if (ftype == LlamaFileType.Q5_K_M && UseMoreBits(layer, layers)) type = GgmlType.Q6_K;
                else if (ftype == LlamaFileType.Q4_K_S && layer < layers / 8) type = GgmlType.Q5_K;
                state.FfnDownIndex++;
                break;
            case Category.AttentionOutput:
                if (ftype == LlamaFileType.Q2_K) type = GgmlType.Q3_K;
                else if (ftype == LlamaFileType.Q3_K_M) type = GgmlType.Q4_K;
                else if (ftype == LlamaFileType.Q3_K_L) type = GgmlType.Q5_K;
                break;
        }
        return Fallback(tensor, type);
    }

    /// <summary>llama.cpp's <c>tensor_type_fallback</c>: a type whose block size divides the row length.</summary>
    private static GgmlType Fallback(SourceTensor tensor, GgmlType type)
    {
        long rowLength = tensor.Dimensions[0];
        if (rowLength % GgmlTypeInfo.Get(type).BlockSize == 0) return type;
        GgmlType fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => throw new ArgumentException($"tensor \"{tensor.Name}\": row length {rowLength} is not a multiple of {type}'s block size, and llama-quantize defines no fallback for {type}"),
        };
        return rowLength % GgmlTypeInfo.Get(fallback).BlockSize == 0 ? fallback : GgmlType.F16;
    }

    /// <summary>llama.cpp's LLM_TYPE_70B for the supported architectures: 80 blocks with grouped-query attention (llama) or any qwen2.</summary>
    private static bool IsLlamaCpp70B(ModelConfig config) =>
        config.BlockCount == 80 && (config.Architecture == ModelArchitecture.Qwen2 || config.HeadCount != config.KvHeadCount);

    private static bool IsAttentionV(Category c) => c is Category.AttentionV or Category.AttentionQkv or Category.AttentionKvB;

    private static Category GetCategory(string name)
    {
        if (name == "output.weight") return Category.Output;
        if (name is "token_embd.weight" or "per_layer_token_embd.weight") return Category.TokenEmbedding;
        if (name.Contains("attn_qkv.weight", StringComparison.Ordinal)) return Category.AttentionQkv;
        if (name.Contains("attn_kv_b.weight", StringComparison.Ordinal)) return Category.AttentionKvB;
        if (name.Contains("attn_v.weight", StringComparison.Ordinal)) return Category.AttentionV;
        if (name.Contains("attn_k.weight", StringComparison.Ordinal)) return Category.AttentionK;
        if (name.Contains("attn_q.weight", StringComparison.Ordinal)) return Category.AttentionQ;
        if (name.Contains("attn_output.weight", StringComparison.Ordinal)) return Category.AttentionOutput;
        if (name.Contains("ffn_up", StringComparison.Ordinal)) return Category.FfnUp;
        if (name.Contains("ffn_gate", StringComparison.Ordinal)) return Category.FfnGate;
        if (name.Contains("ffn_down", StringComparison.Ordinal)) return Category.FfnDown;
        return Category.Other;
    }

    /// <summary>The block number of <c>blk.N.…</c> names (sscanf "blk.%d." semantics), −1 for the rest.</summary>
    private static int BlockIndex(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int i = 4, value = 0;
        bool any = false;
        while (i < name.Length && char.IsAsciiDigit(name[i]) && value < 100_000_000)
        {
            value = value * 10 + (name[i++] - '0');
            any = true;
        }
        return any ? value : -1;
    }

    /// <summary>ggml_n_dims: the number of dimensions up to the last one larger than 1 (at least 1).</summary>
    private static int DimensionCount(long[] dims)
    {
        for (int i = dims.Length - 1; i > 0; i--)
            if (dims[i] > 1) return i + 1;
        return 1;
    }
}
