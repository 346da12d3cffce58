using System.Globalization;
using ManagedKv.Model.Evaluation.Results;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>Aggregates retrieval cells per press setting and renders the table.</summary>
public static class RetrievalSummary
{
    /// <summary>One row per setting that has cells, in setting order, with its depth × length score grids.</summary>
    public static IReadOnlyList<RetrievalRow> Rows(IReadOnlyList<PressConfiguration> settings, RetrievalGrid grid, IEnumerable<RetrievalCell> cells)
    {
        var bySetting = cells.GroupBy(c => c.Setting).ToDictionary(g => g.Key, g => g.ToList());
        var rows = new List<RetrievalRow>();
        foreach (var setting in settings)
        {
            if (!bySetting.TryGetValue(setting.Key, out var list) || list.Count == 0) continue;
            var exact = new double[grid.Depths.Count, grid.Lengths.Count];
            var partial = new double[grid.Depths.Count, grid.Lengths.Count];
            for (int d = 0; d < grid.Depths.Count; d++)
                for (int l = 0; l < grid.Lengths.Count; l++)
                {
                    var here = list.Where(c => c.Depth == grid.Depths[d] && c.Words == grid.Lengths[l]).ToList();
                    exact[d, l] = here.Count == 0 ? double.NaN : here.Average(c => c.ExactMatch ? 1.0 : 0.0);
                    partial[d, l] = here.Count == 0 ? double.NaN : here.Average(c => c.PartialMatch);
                }
            long bytes = list.Sum(c => c.CacheBytes), full = list.Sum(c => c.FullCacheBytes);
            rows.Add(new RetrievalRow(setting, list.Count, list.Average(c => c.ExactMatch ? 1.0 : 0.0), list.Average(c => c.PartialMatch),
                full == 0 ? 1 : (double)bytes / full, exact, partial));
        }
        return rows;
    }

    /// <summary>The Markdown table of <paramref name="rows"/>.</summary>
    public static string Table(IReadOnlyList<RetrievalRow> rows) => MarkdownTable.Render(
        ["press", "compression", "exact match", "partial match", "effective ratio", "prompts"],
        [false, true, true, true, true, true],
        rows.Select(r => (IReadOnlyList<string>)
        [
            r.Setting.Name, r.Setting.RatioText, F(r.ExactMatch, "F3"), F(r.PartialMatch, "F3"), F(r.EffectiveRatio, "F3"),
            r.Prompts.ToString(CultureInfo.InvariantCulture),
        ]));

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
