using System.Text.Json;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;

namespace ManagedKv.Model.Diagnostics;

/// <summary>
/// Writes, for every layer a press runs on, the keys and values it saw and the plan it returned, so a method can
/// be checked outside the engine. Files in the dump folder, per press invocation
/// <c>{n}</c> (a running number) on layer <c>{l}</c>:
/// <list type="bullet">
/// <item><c>{n:D4}-layer{l}-head{h}.keys.npy</c>: float32 [tokens, keyDim], keys after RoPE, one file per KV head
/// (heads may hold different tokens);</item>
/// <item><c>{n:D4}-layer{l}-head{h}.values.npy</c>: float32 [tokens, valueDim];</item>
/// <item><c>{n:D4}-layer{l}-head{h}.positions.npy</c>: int32 [tokens], the tokens' sequence positions;</item>
/// <item><c>{n:D4}-layer{l}.attention.npy</c>, when the layer's attention statistics were collected (presses that
/// score by attention: H2O, SnapKV, PyramidKV, TOVA): float32 [queryHeads, tokens], row q the sum, over the queries
/// at positions [queries.start, queries.end) of this forward call, of query head q's softmax probability for each
/// token of KV head q / (queryHeads / kvHeads), in that head's token order (its positions file); tokens is the
/// largest head's count, and a head holding fewer tokens (ragged heads) pads its rows with NaN;</item>
/// <item><c>{n:D4}-layer{l}.plan.json</c>: press name, phase and the plan (null when the press did nothing), and
/// under <c>attention</c> (null without statistics) the statistics file, its shape, the summed query positions and
/// the query heads per KV head.</item>
/// </list>
/// </summary>
public sealed class PressDump(string directory)
{
    private int _sequence;

    /// <summary>The folder written to.</summary>
    public string Directory { get; } = directory;

    /// <summary>Records what <paramref name="press"/> saw in <paramref name="context"/> and what it returned.</summary>
    public void Record(IKvPress press, PressContext context, KvPlan? plan)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string prefix = Path.Combine(Directory, $"{_sequence++:D4}-layer{context.Layer}");
        for (int h = 0; h < context.Cache.KvHeadCount; h++)
        {
            var head = context.Head(h);
            NpyWriter.Write($"{prefix}-head{h}.keys.npy", Rows(head.Keys), head.Count, head.Keys.Width);
            NpyWriter.Write($"{prefix}-head{h}.values.npy", Rows(head.Values), head.Count, head.Values.Width);
            NpyWriter.Write($"{prefix}-head{h}.positions.npy", head.Positions, head.Count);
        }
        var document = new Dictionary<string, object?>
        {
            ["press"] = press.Name,
            ["layer"] = context.Layer,
            ["phase"] = context.Phase.ToString().ToLowerInvariant(),
            ["attention"] = context.Statistics is { } statistics ? WriteAttention(prefix, statistics, context) : null,
            ["plan_type"] = plan?.GetType().Name,
            ["plan"] = plan,
        };
        File.WriteAllText(prefix + ".plan.json", JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Writes the statistics as [queryHeads, tokens] (NaN-padded) and returns their description.</summary>
    private static Dictionary<string, object> WriteAttention(string prefix, Inference.AttentionStatistics statistics, PressContext context)
    {
        int heads = statistics.QueryHeadCount, tokens = 0;
        for (int q = 0; q < heads; q++) tokens = Math.Max(tokens, statistics.Sums(q).Length);
        var data = new float[heads * tokens];
        data.AsSpan().Fill(float.NaN);
        for (int q = 0; q < heads; q++) statistics.Sums(q).CopyTo(data.AsSpan(q * tokens, tokens));
        string file = prefix + ".attention.npy";
        NpyWriter.Write(file, data, heads, tokens);
        return new Dictionary<string, object>
        {
            ["file"] = Path.GetFileName(file),
            ["dtype"] = "float32",
            ["shape"] = new[] { heads, tokens },
            ["meaning"] = "row q: sum over the queries at positions [queries.start, queries.end) of query head q's softmax probability per token of KV head q / query_heads_per_kv_head, in that head's token order; NaN past a shorter head's tokens",
            ["queries"] = new Dictionary<string, int> { ["start"] = statistics.Queries.Start, ["end"] = statistics.Queries.End },
            ["query_heads_per_kv_head"] = heads / context.Cache.KvHeadCount,
        };
    }

    private static float[] Rows(KvRows rows)
    {
        var data = new float[rows.Count * rows.Width];
        for (int i = 0; i < rows.Count; i++) rows.Read(i, data.AsSpan(i * rows.Width, rows.Width));
        return data;
    }
}
