using ManagedKv.Cpu.Threading;

namespace ManagedKv.Cpu.Tests;

/// <summary>The worker pool runs every item exactly once per job, job after job, and surfaces item failures.</summary>
[TestClass]
public sealed class WorkerPoolTests
{
    private sealed class CountingWork(int items) : IParallelWork
    {
        public readonly int[] Hits = new int[items];
        public int FailAt = -1;

        public void Execute(int item, int worker)
        {
            if (item == FailAt) throw new InvalidOperationException($"item {item} failed");
            Interlocked.Increment(ref Hits[item]);
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    public void EveryItemRunsOncePerJob(int threads)
    {
        using var pool = new WorkerPool(threads);
        var work = new CountingWork(257);
        for (int job = 0; job < 2000; job++) pool.Run(work, 1 + job % 257);
        for (int i = 0; i < 257; i++)
        {
            int expected = Enumerable.Range(0, 2000).Count(job => i < 1 + job % 257);
            Assert.AreEqual(expected, work.Hits[i], $"item {i}");
        }
    }

    [TestMethod]
    public void ItemFailureIsRethrownAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(3);
        var work = new CountingWork(100) { FailAt = 57 };
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => pool.Run(work, 100));
        StringAssert.Contains(e.Message, "item 57");
        work.FailAt = -1;
        pool.Run(work, 100);
        Assert.AreEqual(2, work.Hits[3]);
    }
}
