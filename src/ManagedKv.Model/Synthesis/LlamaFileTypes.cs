using ManagedKv.Gguf;

namespace ManagedKv.Model.Synthesis;

/// <summary>Names of the <see cref="LlamaFileType"/> mixes (llama-quantize's, lower-cased) and their base tensor types.</summary>
public static class LlamaFileTypes
{
    /// <summary>Every mix, in llama-quantize's listing order.</summary>
    public static IReadOnlyList<LlamaFileType> All { get; } =
    [
        LlamaFileType.F32, LlamaFileType.F16, LlamaFileType.BF16, LlamaFileType.Q8_0,
        LlamaFileType.Q4_0, LlamaFileType.Q4_1, LlamaFileType.Q5_0, LlamaFileType.Q5_1,
        LlamaFileType.Q2_K, LlamaFileType.Q3_K_S, LlamaFileType.Q3_K_M, LlamaFileType.Q3_K_L,
        LlamaFileType.Q4_K_S, LlamaFileType.Q4_K_M, LlamaFileType.Q5_K_S, LlamaFileType.Q5_K_M, LlamaFileType.Q6_K,
    ];

    /// <summary>The mix's name as llama-quantize spells it, lower-cased (<c>q4_k_m</c>).</summary>
    public static string Name(LlamaFileType fileType) => fileType.ToString().ToLowerInvariant();

    /// <summary>The mix called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static LlamaFileType? Find(string name) =>
        All.Select(t => (LlamaFileType?)t).FirstOrDefault(t => string.Equals(Name(t!.Value), name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The type every quantisable tensor starts from before the mix's adjustments: llama.cpp's
    /// <c>llama_ftype_get_default_type</c> (Q4_K for Q4_K_M, Q3_K for the Q3_K mixes, …).
    /// </summary>
    public static GgmlType DefaultTensorType(LlamaFileType fileType) => fileType switch
    {
        LlamaFileType.F32 => GgmlType.F32,
        LlamaFileType.F16 => GgmlType.F16,
        LlamaFileType.BF16 => GgmlType.BF16,
        LlamaFileType.Q4_0 => GgmlType.Q4_0,
        LlamaFileType.Q4_1 => GgmlType.Q4_1,
        LlamaFileType.Q5_0 => GgmlType.Q5_0,
        LlamaFileType.Q5_1 => GgmlType.Q5_1,
        LlamaFileType.Q8_0 => GgmlType.Q8_0,
        LlamaFileType.Q2_K => GgmlType.Q2_K,
        LlamaFileType.Q3_K_S or LlamaFileType.Q3_K_M or LlamaFileType.Q3_K_L => GgmlType.Q3_K,
        LlamaFileType.Q4_K_S or LlamaFileType.Q4_K_M => GgmlType.Q4_K,
        LlamaFileType.Q5_K_S or LlamaFileType.Q5_K_M => GgmlType.Q5_K,
        LlamaFileType.Q6_K => GgmlType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "not a supported llama.cpp file type"),
    };
}
