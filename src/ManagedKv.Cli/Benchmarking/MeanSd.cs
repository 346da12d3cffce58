using System.Globalization;

namespace ManagedKv.Cli.Benchmarking;

/// <summary>Mean and sample standard deviation of repeated measurements (llama-bench's <c>mean ± sd</c>).</summary>
/// <param name="Mean">The mean.</param>
/// <param name="Sd">The sample standard deviation (0 for a single value).</param>
public readonly record struct MeanSd(double Mean, double Sd)
{
    /// <summary>Summarises <paramref name="values"/> (at least one).</summary>
    public static MeanSd Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values to summarise", nameof(values));
        double mean = values.Average();
        double sd = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new MeanSd(mean, sd);
    }

    /// <summary><c>mean ± sd</c> with <paramref name="decimals"/> decimals, invariant culture.</summary>
    public string Format(int decimals) =>
        string.Create(CultureInfo.InvariantCulture, $"{Mean.ToString("F" + decimals, CultureInfo.InvariantCulture)} ± {Sd.ToString("F" + decimals, CultureInfo.InvariantCulture)}");
}
