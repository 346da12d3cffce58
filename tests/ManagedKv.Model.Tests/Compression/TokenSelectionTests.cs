using ManagedKv.Model.Compression;

namespace ManagedKv.Model.Tests.Compression;

[TestClass]
public sealed class TokenSelectionTests
{
    [TestMethod]
    public void KeepsHighestScoresInPositionOrder() =>
        CollectionAssert.AreEqual(new[] { 1, 3 }, TokenSelection.Select([0.1f, 0.9f, 0.2f, 0.8f], keep: 2));

    [TestMethod]
    public void TiesGoToTheLowerPosition() =>
        CollectionAssert.AreEqual(new[] { 0, 2 }, TokenSelection.Select([0.5f, 0.1f, 0.5f, 0.5f], keep: 2));

    [TestMethod]
    public void SinksAndRecentWindowAreAlwaysKept() =>
        // Scores would pick 2 and 3; sink 0 and the last token are forced, leaving one free slot (2).
        CollectionAssert.AreEqual(new[] { 0, 2, 5 }, TokenSelection.Select([-9f, 0f, 5f, 4f, 0f, -9f], keep: 3, sinks: 1, recent: 1));

    [TestMethod]
    public void NaNRanksLowestAndKeepIsClamped()
    {
        CollectionAssert.AreEqual(new[] { 1 }, TokenSelection.Select([float.NaN, -100f], keep: 1));
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, TokenSelection.Select([1f, 2f, 3f], keep: 10));
        CollectionAssert.AreEqual(new[] { 0, 2 }, TokenSelection.Select([1f, 2f, 3f], keep: 0, sinks: 1, recent: 1));
    }

    /// <summary>
    /// Every budget, including the one-eviction fast path of decode steps, equals the definition: forced sinks and
    /// recent tokens, then the best others by score descending (NaN lowest, ±0 equal) and index ascending — on
    /// scores full of ties, ±0, ±∞ and NaN.
    /// </summary>
    [TestMethod]
    public void EveryBudgetMatchesTheRankingDefinitionOnTiedAndSpecialScores()
    {
        var random = new Random(11);
        float[] palette = [0f, -0f, 1f, -1f, 0.5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-30f];
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 40), sinks = random.Next(0, 4), recent = random.Next(0, 6);
            var scores = Enumerable.Range(0, n).Select(_ => random.Next(3) == 0 ? (float)random.Next(-3, 4) : palette[random.Next(palette.Length)]).ToArray();
            for (int keep = 0; keep <= n; keep++)
            {
                int first = Math.Min(sinks, n), tail = Math.Min(recent, n - first);
                int k = Math.Clamp(keep, first + tail, n);
                var ranked = Enumerable.Range(first, n - first - tail)
                    .OrderByDescending(i => float.IsNaN(scores[i]) ? float.NegativeInfinity : scores[i] == 0 ? 0f : scores[i])
                    .ThenBy(i => i)
                    .Take(k - first - tail);
                var expected = Enumerable.Range(0, first).Concat(ranked).Concat(Enumerable.Range(n - tail, tail)).Order().ToArray();
                CollectionAssert.AreEqual(expected, TokenSelection.Select(scores, keep, sinks, recent),
                    $"trial {trial}: n {n}, keep {keep}, sinks {sinks}, recent {recent}, scores [{string.Join(", ", scores)}]");
            }
        }
    }
}
