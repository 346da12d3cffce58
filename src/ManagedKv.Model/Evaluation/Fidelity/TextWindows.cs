namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>Cuts a tokenised text into evaluation windows.</summary>
public static class TextWindows
{
    /// <summary>
    /// Consecutive, non-overlapping windows of <paramref name="windowTokens"/> tokens (the remainder is dropped),
    /// each starting with <paramref name="bosId"/> in place of its first token — as llama-perplexity cuts chunks,
    /// so a window of n tokens scores the same predictions as its chunk when context = n/2 + 1.
    /// </summary>
    /// <exception cref="ArgumentException">The text holds no whole window.</exception>
    public static IReadOnlyList<int[]> Cut(ReadOnlySpan<int> tokens, int windowTokens, int bosId, int maxWindows = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowTokens, 2);
        int count = tokens.Length / windowTokens;
        if (maxWindows > 0) count = Math.Min(count, maxWindows);
        if (count == 0) throw new ArgumentException($"the text has {tokens.Length} tokens, fewer than one window of {windowTokens}");
        var windows = new int[count][];
        for (int w = 0; w < count; w++)
        {
            windows[w] = tokens.Slice(w * windowTokens, windowTokens).ToArray();
            windows[w][0] = bosId;
        }
        return windows;
    }
}
