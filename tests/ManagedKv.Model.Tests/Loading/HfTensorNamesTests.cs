using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Loading;

[TestClass]
public sealed class HfTensorNamesTests
{
    [TestMethod]
    [DataRow("token_embd.weight", "model.embed_tokens.weight")]
    [DataRow("output_norm.weight", "model.norm.weight")]
    [DataRow("output.weight", "lm_head.weight")]
    [DataRow("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight")]
    [DataRow("blk.12.attn_q.weight", "model.layers.12.self_attn.q_proj.weight")]
    [DataRow("blk.3.attn_k.bias", "model.layers.3.self_attn.k_proj.bias")]
    [DataRow("blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight")]
    [DataRow("blk.7.attn_output.weight", "model.layers.7.self_attn.o_proj.weight")]
    [DataRow("blk.1.ffn_norm.weight", "model.layers.1.post_attention_layernorm.weight")]
    [DataRow("blk.1.ffn_gate.weight", "model.layers.1.mlp.gate_proj.weight")]
    [DataRow("blk.1.ffn_up.weight", "model.layers.1.mlp.up_proj.weight")]
    [DataRow("blk.10.ffn_down.weight", "model.layers.10.mlp.down_proj.weight")]
    public void MapsBothWays(string gguf, string hf)
    {
        Assert.AreEqual(hf, HfTensorNames.ToHuggingFace(gguf));
        Assert.AreEqual(gguf, HfTensorNames.ToGguf(hf));
    }

    [TestMethod]
    [DataRow("rope_freqs.weight")]
    [DataRow("blk.01.attn_q.weight")]
    [DataRow("blk.+1.attn_q.weight")]
    [DataRow("blk.x.attn_q.weight")]
    [DataRow("blk.1.attn_qq.weight")]
    [DataRow("blk.99999999999.attn_q.weight")]
    [DataRow("blk.1")]
    [DataRow("model.layers.-1.mlp.up_proj.weight")]
    [DataRow("model.layers.1.mlp.up_proj")]
    [DataRow("")]
    public void UnknownNamesMapToNull(string name)
    {
        Assert.IsNull(HfTensorNames.ToHuggingFace(name));
        Assert.IsNull(HfTensorNames.ToGguf(name));
    }

    [TestMethod]
    public void EveryTensorOfTheTestModelsRoundTrips()
    {
        foreach (string file in new[] { "tiny-qwen2-F32.gguf", "tiny-llama-F32.gguf" })
        {
            using var gguf = Gguf.GgufFile.Open(TestData.Path("models", file));
            foreach (var t in gguf.Tensors)
                Assert.AreEqual(t.Name, HfTensorNames.ToGguf(HfTensorNames.ToHuggingFace(t.Name)!));
        }
    }
}
