using ManagedKv.Model.Inference;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ManagedKv.TestKit;

/// <summary>
/// A layer hook that asks every layer's attention kernel for the statistics of every query of every forward call
/// and does nothing else, so a backend's logits with statistics can be compared with its plain logits. Shared by
/// the reference and CPU backend test projects.
/// </summary>
public sealed class AllQueriesStatisticsHook(int layers, int queryHeads) : ILayerHook
{
    /// <summary>The statistics of the latest call, one per layer.</summary>
    public AttentionStatistics[] Statistics { get; } = Enumerable.Range(0, layers).Select(_ => new AttentionStatistics(queryHeads)).ToArray();

    /// <inheritdoc/>
    public void BeginForward(PositionRange call)
    {
        foreach (var s in Statistics) s.Begin(call, call.Start);
    }

    /// <inheritdoc/>
    public AttentionStatistics? StatisticsFor(int layer) => Statistics[layer];

    /// <inheritdoc/>
    public void AfterLayer(in LayerEvent e)
    {
    }

    /// <summary>Each counted query's probabilities sum to 1, so every head's sums add up to the call's query count.</summary>
    public void AssertEveryQueryDistributesOne(int queries)
    {
        foreach (var s in Statistics)
        {
            Assert.AreEqual(queries, s.Queries.Count);
            for (int h = 0; h < s.QueryHeadCount; h++)
            {
                double total = 0;
                foreach (float p in s.Sums(h)) total += p;
                Assert.AreEqual(queries, total, 1e-4 * queries, $"query head {h}");
            }
        }
    }
}
