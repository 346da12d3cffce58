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
/// <item><c>{n:D4}-layer{l}.plan.json</c>: press name, phase and the plan (null when the press did nothing).</item>
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
            ["plan_type"] = plan?.GetType().Name,
            ["plan"] = plan,
        };
        File.WriteAllText(prefix + ".plan.json", JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static float[] Rows(KvRows rows)
    {
        var data = new float[rows.Count * rows.Width];
        for (int i = 0; i < rows.Count; i++) rows.Read(i, data.AsSpan(i * rows.Width, rows.Width));
        return data;
    }
}
