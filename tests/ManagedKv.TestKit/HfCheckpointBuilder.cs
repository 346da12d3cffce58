using System.Globalization;
using System.Text.Json;
using ManagedKv.Gguf;
using ManagedKv.Gguf.Safetensors;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;

namespace ManagedKv.TestKit;

/// <summary>
/// Builds a Hugging Face checkpoint folder (config.json + safetensors, single or sharded) that holds
/// the same model as an F32/F16/BF16 GGUF file, the way the model looked before llama.cpp's
/// converter touched it. Later tests load both and compare their logits.
/// </summary>
/// <remarks>
/// <para><b>The q/k permutation.</b> convert_hf_to_gguf.py (<c>LlamaModel.modify_tensors</c>) passes
/// llama/mistral q_proj and k_proj through</para>
/// <code>
/// def permute(w, n_head, n_head_kv):
///     if n_head_kv is not None and n_head != n_head_kv: n_head = n_head_kv
///     return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
/// </code>
/// <para>(n_head for q, n_head_kv for k: either way the leading axis has one entry per head, so each head
/// of head_dim rows is permuted on its own). Output row <c>h·d + 2j + s</c> of the GGUF tensor is input
/// row <c>h·d + s·d/2 + j</c> of the Hugging Face tensor (s ∈ {0,1}, j &lt; d/2): the half-split pair
/// (j, j + d/2) that NEOX rope rotates becomes the adjacent pair (2j, 2j+1) that NORM rope rotates.
/// This builder applies the inverse, so HF-with-NEOX equals GGUF-with-NORM. Qwen2 is converted without
/// the permutation (it is NEOX in GGUF too), so its tensors are copied as they are.</para>
/// </remarks>
public static class HfCheckpointBuilder
{
    /// <summary>Choices for <see cref="Build"/>.</summary>
    /// <param name="Shards">1 writes model.safetensors; more writes model-0000i-of-0000n.safetensors and the index.</param>
    /// <param name="Architecture">Write config.json as this architecture (e.g. Mistral for a llama GGUF); null keeps the GGUF's.</param>
    public sealed record Options(int Shards = 1, ModelArchitecture? Architecture = null);

    /// <summary>
    /// Writes the checkpoint for <paramref name="ggufPath"/> into <paramref name="folder"/> (created if
    /// needed) and returns the folder.
    /// </summary>
    /// <exception cref="NotSupportedException">The GGUF holds a tensor type safetensors cannot store (a quantized type).</exception>
    public static string Build(string ggufPath, string folder, Options? options = null)
    {
        options ??= new Options();
        Directory.CreateDirectory(folder);
        using var gguf = GgufFile.Open(ggufPath);
        var config = ModelConfig.FromGguf(gguf);
        bool permute = config.Info.GgufRopeStyle == RopeStyle.Norm;

        var tensors = new List<(string Name, TensorView View, byte[]? Permuted)>();
        foreach (var t in gguf.Tensors)
        {
            string hf = HfTensorNames.ToHuggingFace(t.Name) ?? throw new NotSupportedException($"{t.Name} has no Hugging Face counterpart");
            var view = gguf.GetTensorView(t.Name);
            byte[]? permuted = permute && IsQueryOrKey(t.Name) ? UnpermuteRows(view, config.HeadDim) : null;
            tensors.Add((hf, view, permuted));
        }

        int shards = Math.Max(1, options.Shards);
        var weightMap = new List<KeyValuePair<string, string>>();
        long total = 0;
        for (int s = 0; s < shards; s++)
        {
            string file = shards == 1 ? SafetensorsModel.SingleFileName : $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var writer = new SafetensorsWriter();
            writer.Metadata["format"] = "pt";
            // Contiguous runs of tensors per shard, like save_pretrained's size-based split.
            int from = tensors.Count * s / shards, to = tensors.Count * (s + 1) / shards;
            foreach (var (name, view, permuted) in tensors.Skip(from).Take(to - from))
            {
                string dtype = SafetensorsDType.FromGgml(view.Type) ?? throw new NotSupportedException($"{view.Name}: {view.Type} has no safetensors dtype");
                writer.Add(name, dtype, view.Dimensions.Reverse().ToArray(), permuted ?? view.Bytes);
                weightMap.Add(KeyValuePair.Create(name, file));
            }
            total += writer.DataBytes;
            writer.Write(Path.Combine(folder, file));
        }
        if (shards > 1) SafetensorsWriter.WriteIndex(Path.Combine(folder, SafetensorsModel.IndexFileName), weightMap, total);

        File.WriteAllText(Path.Combine(folder, ModelSource.ConfigFileName), ConfigJson(config, options.Architecture ?? config.Architecture, DTypeName(gguf)));
        return folder;
    }

    /// <summary>The Hugging Face row that GGUF row <paramref name="ggufRow"/> of a permuted q/k projection came from.</summary>
    public static int HfRowOf(int ggufRow, int headDim)
    {
        int head = ggufRow / headDim, within = ggufRow % headDim;
        int pair = within / 2, side = within % 2;
        return head * headDim + side * (headDim / 2) + pair;
    }

    /// <summary>A GGUF (NORM-ordered) q/k tensor's bytes with its rows put back in Hugging Face (NEOX) order.</summary>
    public static byte[] UnpermuteRows(TensorView view, int headDim)
    {
        // A weight has one row per output feature; a bias is one element per output feature.
        long rows = view.Dimensions.Length == 1 ? view.RowLength : view.RowCount;
        int rowBytes = checked((int)(view.ByteSize / rows));
        if (rows % headDim != 0) throw new ArgumentException($"{view.Name}: {rows} rows are not whole heads of {headDim}");
        var src = view.Bytes;
        var dst = new byte[src.Length];
        for (int r = 0; r < rows; r++)
            src.Slice(r * rowBytes, rowBytes).CopyTo(dst.AsSpan(HfRowOf(r, headDim) * rowBytes, rowBytes));
        return dst;
    }

    /// <summary>A config.json for <paramref name="c"/> written as <paramref name="architecture"/>.</summary>
    public static string ConfigJson(ModelConfig c, ModelArchitecture architecture, string torchDtype = "float32")
    {
        var info = ArchitectureTable.Get(architecture);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("_name_or_path", c.Name);
            w.WriteStartArray("architectures");
            w.WriteStringValue(info.HfArchitecture);
            w.WriteEndArray();
            w.WriteString("model_type", info.HfModelType);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("hidden_size", c.EmbeddingLength);
            w.WriteNumber("intermediate_size", c.FeedForwardLength);
            w.WriteNumber("num_hidden_layers", c.BlockCount);
            w.WriteNumber("num_attention_heads", c.HeadCount);
            w.WriteNumber("num_key_value_heads", c.KvHeadCount);
            w.WriteNumber("head_dim", c.HeadDim);
            w.WriteNumber("max_position_embeddings", c.ContextLength);
            // Shortest round-trip text of the float, so parsing it back gives the same float.
            w.WriteNumber("rms_norm_eps", double.Parse(c.RmsNormEps.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
            w.WriteNumber("rope_theta", double.Parse(c.RopeFreqBase.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
            switch (c.RopeScaling)
            {
                case RopeScaling.Linear l:
                    w.WriteStartObject("rope_scaling");
                    w.WriteString("rope_type", "linear");
                    w.WriteNumber("factor", l.Factor);
                    w.WriteEndObject();
                    break;
                case RopeScaling.Llama3 s:
                    w.WriteStartObject("rope_scaling");
                    w.WriteString("rope_type", "llama3");
                    w.WriteNumber("factor", s.Factor);
                    w.WriteNumber("low_freq_factor", s.LowFreqFactor);
                    w.WriteNumber("high_freq_factor", s.HighFreqFactor);
                    w.WriteNumber("original_max_position_embeddings", s.OriginalContextLength);
                    w.WriteEndObject();
                    break;
                default:
                    w.WriteNull("rope_scaling");
                    break;
            }
            w.WriteBoolean("tie_word_embeddings", c.TiedEmbeddings);
            w.WriteString("torch_dtype", torchDtype);
            w.WriteNumber("vocab_size", c.VocabSize);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static bool IsQueryOrKey(string ggufName) =>
        ggufName.EndsWith(".attn_q.weight", StringComparison.Ordinal) || ggufName.EndsWith(".attn_k.weight", StringComparison.Ordinal)
        || ggufName.EndsWith(".attn_q.bias", StringComparison.Ordinal) || ggufName.EndsWith(".attn_k.bias", StringComparison.Ordinal);

    private static string DTypeName(GgufFile gguf) =>
        gguf.GetTensorView("token_embd.weight").Type switch
        {
            GgmlType.F16 => "float16",
            GgmlType.BF16 => "bfloat16",
            _ => "float32",
        };
}
