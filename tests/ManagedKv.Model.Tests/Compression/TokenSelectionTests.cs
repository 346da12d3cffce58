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
}
