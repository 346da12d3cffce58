using System.Text;

namespace ManagedKv.Model.Evaluation.Results;

/// <summary>Renders a GitHub-flavoured Markdown table.</summary>
public static class MarkdownTable
{
    /// <summary>
    /// The table: a header row, an alignment row (columns whose <paramref name="rightAligned"/> flag is set get
    /// <c>---:</c>) and one line per row; cells are padded so the text lines up in a terminal too.
    /// </summary>
    public static string Render(IReadOnlyList<string> headers, IReadOnlyList<bool> rightAligned, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(3, all.Select(r => r[i].Length).Append(h.Length).Max())).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> cells)
        {
            text.Append('|');
            for (int i = 0; i < cells.Count; i++)
                text.Append(' ').Append(rightAligned[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i])).Append(" |");
            text.Append('\n');
        }
        Line(headers);
        Line(widths.Select((w, i) => rightAligned[i] ? new string('-', w - 1) + ":" : new string('-', w)).ToList());
        foreach (var row in all) Line(row);
        return text.ToString();
    }
}
