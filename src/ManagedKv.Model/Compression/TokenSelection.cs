namespace ManagedKv.Model.Compression;

/// <summary>
/// The selection every scoring press shares, written once: forced tokens (sinks, recent window) plus the
/// top-k of the rest by score, ties broken by the lower position, returned in ascending index order.
/// </summary>
public static class TokenSelection
{
    /// <summary>
    /// Indices of the <paramref name="keep"/> tokens to retain out of <c>scores.Length</c>: the first
    /// <paramref name="sinks"/> and last <paramref name="recent"/> tokens always, then the highest scores.
    /// </summary>
    /// <param name="scores">[tokens] higher = more important. NaN ranks lowest.</param>
    /// <param name="keep">How many to keep (clamped to [forced, tokens]).</param>
    /// <param name="sinks">Leading tokens always kept.</param>
    /// <param name="recent">Trailing tokens always kept.</param>
    public static int[] Select(ReadOnlySpan<float> scores, int keep, int sinks = 0, int recent = 0)
    {
        int n = scores.Length;
        int forcedHead = Math.Min(Math.Max(sinks, 0), n);
        int forcedTail = Math.Min(Math.Max(recent, 0), n - forcedHead);
        keep = Math.Clamp(keep, forcedHead + forcedTail, n);
        if (keep == n) return Enumerable.Range(0, n).ToArray();

        int free = keep - forcedHead - forcedTail;
        var middle = new int[n - forcedHead - forcedTail];
        for (int i = 0; i < middle.Length; i++) middle[i] = forcedHead + i;
        var keys = new float[middle.Length];
        for (int i = 0; i < middle.Length; i++) keys[i] = float.IsNaN(scores[middle[i]]) ? float.NegativeInfinity : scores[middle[i]];
        // Order: score descending, then index ascending: a total order, so the plan is a pure function of the scores.
        Array.Sort(middle, (a, b) =>
        {
            int c = keys[b - forcedHead].CompareTo(keys[a - forcedHead]);
            return c != 0 ? c : a.CompareTo(b);
        });

        var result = new int[keep];
        int k = 0;
        for (int i = 0; i < forcedHead; i++) result[k++] = i;
        for (int i = 0; i < free; i++) result[k++] = middle[i];
        for (int i = n - forcedTail; i < n; i++) result[k++] = i;
        Array.Sort(result);
        return result;
    }
}
