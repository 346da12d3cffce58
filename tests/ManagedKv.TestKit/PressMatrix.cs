using System.Text;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;

namespace ManagedKv.TestKit;

/// <summary>One row of the shared press matrix: a registered press with arguments, named for its golden files.</summary>
/// <param name="Name">Golden-file stem: the press name, or press-variant for a non-default configuration.</param>
/// <param name="Press">Registry name.</param>
/// <param name="Arguments"><c>--press-arg</c> values (empty: the press's defaults).</param>
public sealed record PressCase(string Name, string Press, IReadOnlyDictionary<string, string> Arguments)
{
    /// <summary>The golden file stem of a cell: <c>{name}-{model}-{ratio}</c>.</summary>
    public string GoldenName(string model, double ratio) => FormattableString.Invariant($"{Name}-{model}-{ratio:0.###}");

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>
/// The shared press test matrix, used by every backend's matrix tests (reference in ManagedKv.Model.Tests, CPU in
/// ManagedKv.Cpu.Tests): every registered press with its defaults plus a few configurations the defaults leave idle
/// or that select differently (AdaKV head budgets, LagKV at lag 32, which the 201-token prompt reaches) ×
/// <see cref="Models"/> × <see cref="Ratios"/>; one golden plan snapshot per cell in <c>testdata/presses</c>.
/// </summary>
public static class PressMatrix
{
    /// <summary>The models of the matrix.</summary>
    public static IReadOnlyList<string> Models { get; } = ["stories260K", "tiny-llama-F32"];

    /// <summary>The compression ratios of the matrix.</summary>
    public static IReadOnlyList<double> Ratios { get; } = [0.25, 0.5, 0.75, 0.875];

    /// <summary>Every row: the registered presses with their defaults, then the variants.</summary>
    public static IReadOnlyList<PressCase> Cases { get; } =
    [
        .. PressRegistry.All.Select(d => new PressCase(d.Name, d.Name, new Dictionary<string, string>())),
        new("snapkv-adaptive", "snapkv", new Dictionary<string, string> { ["head_budget"] = "adaptive" }),
        new("knorm-adaptive", "knorm", new Dictionary<string, string> { ["head_budget"] = "adaptive" }),
        new("lagkv-L32", "lagkv", new Dictionary<string, string> { ["lag"] = "32", ["sink"] = "4" }),
        new("lagkv-kvpress-L32", "lagkv", new Dictionary<string, string> { ["lag"] = "32", ["sink"] = "4", ["variant"] = "kvpress" }),
    ];

    /// <summary>The row named <paramref name="name"/>.</summary>
    public static PressCase Case(string name) => Cases.First(c => c.Name == name);

    /// <summary>[case name, model, ratio] for every cell (MSTest DynamicData rows).</summary>
    public static IEnumerable<object[]> Cells =>
        from c in Cases from model in Models from ratio in Ratios select new object[] { c.Name, model, ratio };

    /// <summary>[case name, model] for every row and model.</summary>
    public static IEnumerable<object[]> CasesAndModels =>
        from c in Cases from model in Models select new object[] { c.Name, model };

    /// <summary>Creates the case's press at <paramref name="ratio"/> (extra arguments override the case's).</summary>
    public static IKvPress Create(PressCase pressCase, double ratio, IReadOnlyDictionary<string, string>? extra = null)
    {
        var arguments = new Dictionary<string, string>(pressCase.Arguments);
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) arguments[k] = v;
        return PressRegistry.Get(pressCase.Press).Create(new CompressionBudget { Compression = ratio }, arguments);
    }

    /// <summary>Plans as text: layer, head, kept positions (the snapshot format).</summary>
    public static string Describe(IReadOnlyList<KvPlan> plans, KvCache cache)
    {
        var sb = new StringBuilder();
        foreach (var plan in plans)
        {
            if (plan is not KeepPlan keep) { sb.AppendLine($"layer {plan.Layer}: {plan}"); continue; }
            for (int h = 0; h < keep.KeepPerHead.Count; h++)
                sb.AppendLine($"layer {plan.Layer} head {h} keep {keep.KeepPerHead[h].Length}: {string.Join(' ', keep.KeepPerHead[h])}");
        }
        // Storage that the kept positions do not describe (quantised codes) is recorded by its fingerprint.
        for (int l = 0; l < cache.LayerCount; l++)
            for (int h = 0; h < cache.KvHeadCount; h++)
            {
                var head = cache.Head(l, h);
                if (head.Keys.Fingerprint is { } keys) sb.AppendLine($"layer {l} head {h} keys {keys}");
                if (head.Values.Fingerprint is { } values) sb.AppendLine($"layer {l} head {h} values {values}");
            }
        sb.AppendLine($"cache tokens {cache.TokenCount} bytes {cache.ByteCount} of full {cache.FullCacheBytes}");
        return sb.ToString();
    }

    /// <summary>
    /// Bytes the cache should hold, by formula: a dense row costs width × 4 (f32); a MiniCache-merged row costs a
    /// 4-byte magnitude per layer plus one shared direction row for the pair (counted at the lower layer); a
    /// retained row costs a whole row per layer plus one shared 4-byte index; quantised rows their KIVI layout
    /// (<see cref="KiviBytes"/>); every token costs a 4-byte position per head (heads may hold different counts).
    /// </summary>
    public static long ExpectedBytes(KvCache cache)
    {
        long bytes = 0;
        for (int l = 0; l < cache.LayerCount; l++)
            for (int h = 0; h < cache.KvHeadCount; h++)
            {
                var head = cache.Head(l, h);
                bytes += head.Count * (long)sizeof(int) + RowsBytes(head.Keys) + RowsBytes(head.Values);
            }
        return bytes;

        static long RowsBytes(KvRows rows)
        {
            long row = rows.Width * 4L;
            if (rows is not MergedKvRows merged) return KiviBytes.Expected(rows); // dense rows: Count × Width × element size
            long own = merged.MergedCount * 4L + (merged.RetainedCount + merged.AppendedCount) * row;
            long shared = merged.MergedCount * row + merged.RetainedCount * 4L;
            return own + (merged.IsLowerLayer ? shared : 0);
        }
    }
}
