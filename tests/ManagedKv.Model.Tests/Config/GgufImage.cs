using System.Text;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Tests.Config;

/// <summary>
/// A tiny GGUF v3 image builder for config tests: metadata of a few types and F32 tensors filled with
/// zeros. Only what the tests need; real files come from testdata/.
/// </summary>
internal sealed class GgufImage
{
    private readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = [];
    private readonly List<(string Name, long[] Dims)> _tensors = [];

    public GgufImage U32(string key, uint v) => Add(key, w => { w.Write((uint)GgufValueType.UInt32); w.Write(v); });
    public GgufImage I32(string key, int v) => Add(key, w => { w.Write((uint)GgufValueType.Int32); w.Write(v); });
    public GgufImage F32(string key, float v) => Add(key, w => { w.Write((uint)GgufValueType.Float32); w.Write(v); });
    public GgufImage Str(string key, string v) => Add(key, w => { w.Write((uint)GgufValueType.String); WriteString(w, v); });
    public GgufImage Strings(string key, params string[] values) => Add(key, w =>
    {
        w.Write((uint)GgufValueType.Array);
        w.Write((uint)GgufValueType.String);
        w.Write((ulong)values.Length);
        foreach (string s in values) WriteString(w, s);
    });

    /// <summary>Adds (or replaces) a zero-filled F32 tensor with ggml dimensions <paramref name="dims"/>.</summary>
    public GgufImage Tensor(string name, params long[] dims)
    {
        int at = _tensors.FindIndex(t => t.Name == name);
        if (at >= 0) _tensors[at] = (name, dims);
        else _tensors.Add((name, dims));
        return this;
    }

    /// <summary>Removes a tensor.</summary>
    public GgufImage WithoutTensor(string name)
    {
        _tensors.RemoveAll(t => t.Name == name);
        return this;
    }

    /// <summary>Removes a metadata key (to test its absence).</summary>
    public GgufImage Without(string key)
    {
        _metadata.RemoveAll(m => m.Key == key);
        return this;
    }

    private GgufImage Add(string key, Action<BinaryWriter> write)
    {
        Without(key);
        _metadata.Add((key, write));
        return this;
    }

    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, write) in _metadata)
        {
            WriteString(w, key);
            write(w);
        }
        long offset = 0;
        foreach (var (name, dims) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims) w.Write((ulong)d);
            w.Write((uint)GgmlType.F32);
            w.Write((ulong)offset);
            offset += Align(dims.Aggregate(4L, (a, d) => a * d));
        }
        while (ms.Length % GgufFile.DefaultAlignment != 0) w.Write((byte)0);
        w.Write(new byte[offset]);
        return ms.ToArray();
    }

    public GgufFile Open(string name = "image.gguf") => GgufFile.FromBytes(ToArray(), name);

    private static long Align(long n) => (n + GgufFile.DefaultAlignment - 1) / GgufFile.DefaultAlignment * GgufFile.DefaultAlignment;

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>
    /// Metadata like tiny-llama's (n_embd 32, 2 blocks, 4 heads, 2 KV heads, head_dim 8, n_ff 64, vocab 16)
    /// and every tensor that shape needs; <paramref name="arch"/> picks the key prefix (qwen2 adds biases).
    /// </summary>
    public static GgufImage Llama(string arch = "llama", bool withTensors = true, bool tied = false)
    {
        var g = new GgufImage()
            .Str("general.architecture", arch)
            .Str("general.name", "synthetic")
            .U32($"{arch}.context_length", 128)
            .U32($"{arch}.embedding_length", 32)
            .U32($"{arch}.block_count", 2)
            .U32($"{arch}.feed_forward_length", 64)
            .U32($"{arch}.attention.head_count", 4)
            .U32($"{arch}.attention.head_count_kv", 2)
            .U32($"{arch}.rope.dimension_count", 8)
            .F32($"{arch}.rope.freq_base", 10000f)
            .F32($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f)
            .U32($"{arch}.vocab_size", 16);
        if (!withTensors) return g;
        g.Tensor("token_embd.weight", 32, 16).Tensor("output_norm.weight", 32);
        if (!tied) g.Tensor("output.weight", 32, 16);
        for (int i = 0; i < 2; i++)
        {
            g.Tensor($"blk.{i}.attn_norm.weight", 32)
             .Tensor($"blk.{i}.attn_q.weight", 32, 32)
             .Tensor($"blk.{i}.attn_k.weight", 32, 16)
             .Tensor($"blk.{i}.attn_v.weight", 32, 16);
            if (arch == "qwen2")
                g.Tensor($"blk.{i}.attn_q.bias", 32).Tensor($"blk.{i}.attn_k.bias", 16).Tensor($"blk.{i}.attn_v.bias", 16);
            g.Tensor($"blk.{i}.attn_output.weight", 32, 32)
             .Tensor($"blk.{i}.ffn_norm.weight", 32)
             .Tensor($"blk.{i}.ffn_gate.weight", 32, 64)
             .Tensor($"blk.{i}.ffn_up.weight", 32, 64)
             .Tensor($"blk.{i}.ffn_down.weight", 64, 32);
        }
        return g;
    }
}
