using ScottPlot;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>One line of a chart: a label and its points.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values.</param>
public sealed record PlotSeries(string Label, double[] X, double[] Y);

/// <summary>Evaluation charts drawn with ScottPlot, each saved as PNG and SVG.</summary>
public static class EvalPlots
{
    private const int Width = 900, Height = 560;

    /// <summary>Writes <paramref name="path"/>.png and .svg: one line per series, markers at the points, legend outside the data.</summary>
    /// <returns>The two files written.</returns>
    public static IReadOnlyList<string> Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series, bool logY = false)
    {
        using var plot = new Plot();
        // Twenty distinct colours and cycling marker shapes: a run compares a dozen presses, more than the default palette's ten.
        var palette = new ScottPlot.Palettes.Category20();
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond];
        for (int k = 0; k < series.Count; k++)
        {
            var s = series[k];
            var order = Enumerable.Range(0, s.X.Length).OrderBy(i => s.X[i]).ThenBy(i => s.Y[i]).ToArray();
            var y = order.Select(i => s.Y[i]).ToArray();
            var line = plot.Add.Scatter(order.Select(i => s.X[i]).ToArray(), logY ? y.Select(Math.Log10).ToArray() : y);
            line.LegendText = s.Label;
            line.Color = palette.GetColor(k < 10 ? 2 * k : 2 * (k - 10) + 1); // the strong shade of each pair first
            line.MarkerShape = shapes[k % shapes.Length];
            line.MarkerSize = 7;
            line.LineWidth = 1.5f;
        }
        if (logY)
        {
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture) };
            plot.Axes.Left.TickGenerator = ticks;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(logY ? yLabel + " (log scale)" : yLabel);
        plot.ShowLegend(Edge.Right);
        return Save(plot, path);
    }

    /// <summary>
    /// Writes <paramref name="path"/>.png and .svg: a depth (rows, 0 at the top) × length (columns) heatmap of
    /// <paramref name="values"/> on a fixed 0–1 colour scale; cells without data are grey.
    /// </summary>
    public static IReadOnlyList<string> Heatmap(string path, string title, double[,] values, IReadOnlyList<double> depths, IReadOnlyList<int> lengths, string metric)
    {
        using var plot = new Plot();
        int rows = values.GetLength(0), columns = values.GetLength(1);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.NaNCellColor = Colors.LightGray;
        plot.Add.ColorBar(heatmap).Label = metric;
        // ScottPlot centres cell (r, c) at x = c, y = rows − 1 − r: row 0 (depth 0) is the top row.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, columns).Select(i => (double)i).ToArray(), lengths.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, rows).Select(i => rows - 1.0 - i).ToArray(), depths.Select(d => d.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        plot.Title(title);
        plot.XLabel("filler length (words)");
        plot.YLabel("needle depth");
        return Save(plot, path);
    }

    private static IReadOnlyList<string> Save(Plot plot, string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        plot.SavePng(path + ".png", Width, Height);
        plot.SaveSvg(path + ".svg", Width, Height);
        return [path + ".png", path + ".svg"];
    }
}
