using System.Globalization;
using ManagedKv.Model.Evaluation.Results;

namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>Aggregates fidelity cells per press setting and renders the table.</summary>
public static class FidelitySummary
{
    /// <summary>One row per setting that has cells, in setting order.</summary>
    public static IReadOnlyList<FidelityRow> Rows(IReadOnlyList<PressConfiguration> settings, IEnumerable<FidelityCell> cells)
    {
        var bySetting = cells.GroupBy(c => c.Setting).ToDictionary(g => g.Key, g => g.OrderBy(c => c.Window).ToList());
        var rows = new List<FidelityRow>();
        foreach (var setting in settings)
        {
            if (!bySetting.TryGetValue(setting.Key, out var list) || list.Count == 0) continue;
            int tokens = list.Sum(c => c.Tokens);
            double nll = 0, kl = 0;
            long agree = 0, bytes = 0, full = 0, finalBytes = 0, finalFull = 0;
            foreach (var c in list)
            {
                nll += c.NegativeLogLikelihood; kl += c.KlDivergence; agree += c.Top1Agreements;
                bytes += c.CacheBytes; full += c.FullCacheBytes; finalBytes += c.FinalCacheBytes; finalFull += c.FinalFullCacheBytes;
            }
            rows.Add(new FidelityRow(setting, list.Count, tokens, Math.Exp(nll / tokens), kl / tokens, (double)agree / tokens,
                Ratio(bytes, full), Ratio(finalBytes, finalFull), bytes / list.Count, full / list.Count));
        }
        return rows;
    }

    /// <summary>The Markdown table of <paramref name="rows"/>.</summary>
    public static string Table(IReadOnlyList<FidelityRow> rows) => MarkdownTable.Render(
        ["press", "compression", "perplexity", "KL (nats/token)", "top-1 agreement", "effective ratio", "ratio at end", "cache bytes"],
        [false, true, true, true, true, true, true, true],
        rows.Select(r => (IReadOnlyList<string>)
        [
            r.Setting.Name, r.Setting.RatioText, F(r.Perplexity, "F4"), F(r.KlDivergence, "F5"), F(r.Top1Agreement, "F4"),
            F(r.EffectiveRatio, "F3"), F(r.FinalRatio, "F3"), r.CacheBytes.ToString("N0", CultureInfo.InvariantCulture),
        ]));

    private static double Ratio(long bytes, long full) => full == 0 ? 1 : (double)bytes / full;

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
