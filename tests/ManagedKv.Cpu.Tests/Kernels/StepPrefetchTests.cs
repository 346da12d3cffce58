using ManagedKv.Cpu.Kernels;

namespace ManagedKv.Cpu.Tests.Kernels;

/// <summary>
/// <see cref="StepPrefetch"/> must fetch what a decoding tile reads <see cref="StepPrefetch.Distance"/> bytes later
/// in its own order (block column by block column across four rows, tile after tile), or the prefetches land on
/// lines already read or long evicted: results stay right, only speed is lost, so only this test notices.
/// </summary>
[TestClass]
public sealed unsafe class StepPrefetchTests
{
    [TestMethod]
    [DataRow(144, 8)]   // Q4_K, k = 2048: several tiles per distance
    [DataRow(210, 32)]  // Q6_K, k = 8192: a tile longer than the distance
    [DataRow(84, 1)]    // Q2_K, k = 256: one block per row
    public void TargetsTheBlocksReadDistanceBytesLater(int blockBytes, int blocks)
    {
        const int rows = 64;
        var args = new MatMulArgs { Weights = (byte*)0x10000, RowBytes = (long)blockBytes * blocks, OutFeatures = rows };
        var prefetch = new StepPrefetch(args, blockBytes);

        int ahead = prefetch.StepsAhead;
        Assert.IsTrue(ahead * 4L * blockBytes >= StepPrefetch.Distance && (ahead - 1) * 4L * blockBytes < StepPrefetch.Distance,
            $"{ahead} steps of {4 * blockBytes} bytes do not just cover {StepPrefetch.Distance}");

        // The order the kernel reads: per tile, per block column, rows 0..3.
        var order = new List<long>();
        for (int tile = 0; tile < rows; tile += 4)
            for (int column = 0; column < blocks; column++)
                for (int r = 0; r < 4; r++)
                    order.Add((tile + r) * args.RowBytes + (long)column * blockBytes);

        int steps = order.Count / 4;
        for (int step = 0; step + ahead < steps; step++)
        {
            int tile = step / blocks, column = step % blocks;
            byte* tileStart = args.Weights + 4L * tile * args.RowBytes;
            for (int r = 0; r < 4; r++)
            {
                long expected = order[4 * (step + ahead) + r];
                long actual = prefetch.Target(tileStart, column, r) - args.Weights;
                Assert.AreEqual(expected, actual, $"tile {tile} column {column} row {r}");
            }
        }
    }
}
