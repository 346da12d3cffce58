using System.Globalization;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>A lengths × depths grid, each cell run with <see cref="Samples"/> keys.</summary>
/// <param name="Lengths">Filler lengths in words, ascending.</param>
/// <param name="Depths">Needle depths in [0, 1].</param>
/// <param name="Samples">Keys per cell.</param>
public sealed record RetrievalGrid(IReadOnlyList<int> Lengths, IReadOnlyList<double> Depths, int Samples)
{
    /// <summary>
    /// <paramref name="count"/> values from <paramref name="min"/> to <paramref name="max"/> inclusive, evenly spaced
    /// (longctx_bench's <c>get_intermediate_values_within_min_max</c>: the ends exactly, i·(max−min)/(count−1)+min
    /// between). One value when min = max or count = 1 (then the maximum).
    /// </summary>
    public static IReadOnlyList<double> Spaced(double min, double max, int count)
    {
        if (count < 1) throw new ArgumentException($"a grid needs at least one value, got {count}");
        if (min > max) throw new ArgumentException($"grid minimum {min.ToString(CultureInfo.InvariantCulture)} exceeds its maximum {max.ToString(CultureInfo.InvariantCulture)}");
        if (min == max || count == 1) return [max];
        var values = new List<double> { min };
        for (int i = 1; i < count - 1; i++) values.Add(i * (max - min) / (count - 1) + min);
        values.Add(max);
        return values;
    }

    /// <summary><see cref="Spaced"/> truncated to integers (duplicates removed), as the harness rounds lengths.</summary>
    public static IReadOnlyList<int> SpacedLengths(int min, int max, int count) =>
        Spaced(min, max, count).Select(v => (int)v).Distinct().ToList();

    /// <summary>
    /// The most filler words whose prompt, at every depth, leaves <paramref name="reserveTokens"/> of the context free
    /// for the answer (binary search over the prompt's measured token count). 0 when not even one word fits.
    /// </summary>
    public static int MaxWords(Func<int, double, int> promptTokens, IReadOnlyList<double> depths, int contextLength, int reserveTokens)
    {
        bool Fits(int words) => depths.All(d => promptTokens(words, d) + reserveTokens <= contextLength);
        int lo = 0, hi = Math.Max(1, contextLength); // every word costs at least one token
        if (Fits(hi)) return hi;
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            if (Fits(mid)) lo = mid; else hi = mid;
        }
        return lo;
    }
}
