using ManagedKv.Model.Config;

namespace ManagedKv.Model.Loading;

/// <summary>One tensor a model needs: its GGUF name, ggml dimensions, whether it must exist, and why the shape is what it is.</summary>
/// <param name="Name">GGUF tensor name.</param>
/// <param name="Dimensions">Expected ggml dimensions (ne[0] first).</param>
/// <param name="Required">False for tensors that may be absent (output.weight when tied, rope_freqs.weight).</param>
/// <param name="Meaning">The shape in words, e.g. <c>[n_embd, n_head·head_dim]</c>.</param>
public sealed record TensorRequirement(string Name, long[] Dimensions, bool Required, string Meaning);

/// <summary>The tensors a <see cref="ModelConfig"/> implies, with their ggml shapes (as llama.cpp's llama/qwen2 loaders create them).</summary>
public static class TensorRequirements
{
    /// <summary>Every tensor of the model: globals first, then block by block.</summary>
    public static IEnumerable<TensorRequirement> For(ModelConfig c)
    {
        long embd = c.EmbeddingLength, vocab = c.VocabSize, ff = c.FeedForwardLength;
        long q = c.QueryLength, k = c.KeyLength, v = c.ValueLength, o = (long)c.HeadCount * c.ValueHeadDim;

        yield return new("token_embd.weight", [embd, vocab], true, "[n_embd, n_vocab]");
        yield return new("output_norm.weight", [embd], true, "[n_embd]");
        yield return new("output.weight", [embd, vocab], !c.TiedEmbeddings, "[n_embd, n_vocab]");
        yield return new("rope_freqs.weight", [c.RopeDimensionCount / 2], false, "[n_rot/2]");
        for (int i = 0; i < c.BlockCount; i++)
        {
            string b = $"blk.{i}.";
            yield return new(b + "attn_norm.weight", [embd], true, "[n_embd]");
            yield return new(b + "attn_q.weight", [embd, q], true, "[n_embd, n_head·head_dim]");
            yield return new(b + "attn_k.weight", [embd, k], true, "[n_embd, n_head_kv·head_dim]");
            yield return new(b + "attn_v.weight", [embd, v], true, "[n_embd, n_head_kv·head_dim_v]");
            if (c.HasQkvBias)
            {
                yield return new(b + "attn_q.bias", [q], true, "[n_head·head_dim]");
                yield return new(b + "attn_k.bias", [k], true, "[n_head_kv·head_dim]");
                yield return new(b + "attn_v.bias", [v], true, "[n_head_kv·head_dim_v]");
            }
            yield return new(b + "attn_output.weight", [o, embd], true, "[n_head·head_dim_v, n_embd]");
            yield return new(b + "ffn_norm.weight", [embd], true, "[n_embd]");
            yield return new(b + "ffn_gate.weight", [embd, ff], true, "[n_embd, n_ff]");
            yield return new(b + "ffn_up.weight", [embd, ff], true, "[n_embd, n_ff]");
            yield return new(b + "ffn_down.weight", [ff, embd], true, "[n_ff, n_embd]");
        }
    }

    /// <summary>
    /// True when two ggml shapes are the same tensor shape; trailing 1s do not count, since ggml pads
    /// every shape to 4 dimensions with 1s.
    /// </summary>
    public static bool SameShape(ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        while (a.Length > 0 && a[^1] == 1) a = a[..^1];
        while (b.Length > 0 && b[^1] == 1) b = b[..^1];
        return a.SequenceEqual(b);
    }
}
