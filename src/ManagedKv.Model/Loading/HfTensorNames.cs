using System.Globalization;

namespace ManagedKv.Model.Loading;

/// <summary>
/// Translates between GGUF tensor names (<c>blk.3.attn_q.weight</c>) and the Hugging Face names of
/// Llama-family checkpoints (<c>model.layers.3.self_attn.q_proj.weight</c>), as llama.cpp's
/// tensor map (gguf-py <c>tensor_mapping.py</c>) does for these architectures.
/// </summary>
public static class HfTensorNames
{
    private static readonly (string Gguf, string Hf)[] Global =
    [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("output.weight", "lm_head.weight"),
    ];

    // Per-block names without the "blk.{i}." / "model.layers.{i}." prefix.
    private static readonly (string Gguf, string Hf)[] PerBlock =
    [
        ("attn_norm.weight", "input_layernorm.weight"),
        ("attn_q.weight", "self_attn.q_proj.weight"),
        ("attn_q.bias", "self_attn.q_proj.bias"),
        ("attn_k.weight", "self_attn.k_proj.weight"),
        ("attn_k.bias", "self_attn.k_proj.bias"),
        ("attn_v.weight", "self_attn.v_proj.weight"),
        ("attn_v.bias", "self_attn.v_proj.bias"),
        ("attn_output.weight", "self_attn.o_proj.weight"),
        ("attn_output.bias", "self_attn.o_proj.bias"),
        ("ffn_norm.weight", "post_attention_layernorm.weight"),
        ("ffn_gate.weight", "mlp.gate_proj.weight"),
        ("ffn_up.weight", "mlp.up_proj.weight"),
        ("ffn_down.weight", "mlp.down_proj.weight"),
    ];

    private const string GgufBlock = "blk.";
    private const string HfBlock = "model.layers.";

    /// <summary>The Hugging Face name of a GGUF tensor, or null when it has none (e.g. <c>rope_freqs.weight</c>).</summary>
    public static string? ToHuggingFace(string ggufName) => Translate(ggufName, GgufBlock, HfBlock, toHf: true);

    /// <summary>The GGUF name of a Hugging Face tensor, or null when it has none.</summary>
    public static string? ToGguf(string hfName) => Translate(hfName, HfBlock, GgufBlock, toHf: false);

    private static string? Translate(string name, string fromPrefix, string toPrefix, bool toHf)
    {
        foreach (var (g, h) in Global)
            if (name == (toHf ? g : h)) return toHf ? h : g;
        if (!name.StartsWith(fromPrefix, StringComparison.Ordinal)) return null;
        int dot = name.IndexOf('.', fromPrefix.Length);
        if (dot < 0 || !TryParseBlock(name.AsSpan(fromPrefix.Length, dot - fromPrefix.Length), out int block)) return null;
        string rest = name[(dot + 1)..];
        foreach (var (g, h) in PerBlock)
            if (rest == (toHf ? g : h)) return toPrefix + block.ToString(CultureInfo.InvariantCulture) + "." + (toHf ? h : g);
        return null;
    }

    // Canonical decimal only ("07" or "+7" would break the one-to-one mapping).
    private static bool TryParseBlock(ReadOnlySpan<char> text, out int block)
    {
        block = 0;
        if (text.IsEmpty || (text.Length > 1 && text[0] == '0')) return false;
        foreach (char c in text)
            if (c is < '0' or > '9') return false;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out block);
    }
}
