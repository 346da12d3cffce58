using System.Runtime.InteropServices;
using ManagedKv.Model.Loading;

namespace ManagedKv.Model.Inference;

/// <summary>One transformer block's weights (ggml shapes: [in, out], ne[0] first).</summary>
public sealed record BlockWeights(
    DeviceWeight AttentionNorm,   // [embd]
    DeviceWeight Query,           // [embd, heads·headDim]
    DeviceWeight Key,             // [embd, kvHeads·headDim]
    DeviceWeight Value,           // [embd, kvHeads·valueDim]
    DeviceWeight? QueryBias,      // [heads·headDim] (qwen2)
    DeviceWeight? KeyBias,        // [kvHeads·headDim] (qwen2)
    DeviceWeight? ValueBias,      // [kvHeads·valueDim] (qwen2)
    DeviceWeight Output,          // [heads·valueDim, embd]
    DeviceWeight FfnNorm,         // [embd]
    DeviceWeight Gate,            // [embd, ff]
    DeviceWeight Up,              // [embd, ff]
    DeviceWeight Down);           // [ff, embd]

/// <summary>All weights of a Llama-family model, prepared for one backend (zero-copy on the CPU).</summary>
public sealed record TransformerWeights(
    DeviceWeight TokenEmbedding,  // [embd, vocab]
    DeviceWeight OutputNorm,      // [embd]
    DeviceWeight Output,          // [embd, vocab]; the embedding table itself when tied
    IReadOnlyList<BlockWeights> Blocks,
    float[]? RopeFreqFactors)     // [ropeDims/2] from rope_freqs.weight (Llama-3 scaling), or null
{
    /// <summary>Binds every tensor of <paramref name="source"/> to <paramref name="backend"/>.</summary>
    public static TransformerWeights Load(ModelSource source, IBackend backend)
    {
        source.ValidateTensors();
        DeviceWeight W(string name) => backend.PrepareWeight(source.GetTensor(name));
        DeviceWeight? Optional(string name) => source.TryGetTensor(name, out var view) ? backend.PrepareWeight(view) : null;

        var blocks = new BlockWeights[source.Config.BlockCount];
        for (int i = 0; i < blocks.Length; i++)
        {
            string p = $"blk.{i}.";
            blocks[i] = new BlockWeights(
                W(p + "attn_norm.weight"), W(p + "attn_q.weight"), W(p + "attn_k.weight"), W(p + "attn_v.weight"),
                Optional(p + "attn_q.bias"), Optional(p + "attn_k.bias"), Optional(p + "attn_v.bias"),
                W(p + "attn_output.weight"), W(p + "ffn_norm.weight"),
                W(p + "ffn_gate.weight"), W(p + "ffn_up.weight"), W(p + "ffn_down.weight"));
        }
        var embedding = W("token_embd.weight");
        var output = Optional("output.weight") ?? embedding;
        float[]? freqFactors = null;
        if (source.TryGetTensor("rope_freqs.weight", out var freqs))
            freqFactors = MemoryMarshal.Cast<byte, float>(freqs.Bytes).ToArray(); // ValidateTensors checked F32 [dims/2]
        return new TransformerWeights(embedding, W("output_norm.weight"), output, blocks, freqFactors);
    }
}
