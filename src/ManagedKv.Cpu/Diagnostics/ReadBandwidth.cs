using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Threading;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Diagnostics;

/// <summary>The outcome of <see cref="ReadBandwidth.Measure"/>.</summary>
/// <param name="Bytes">Bytes read per pass.</param>
/// <param name="BytesPerSecond">The fastest pass's rate.</param>
/// <param name="Checksum">
/// XOR of every 64-bit word of every tensor, counted from the tensor's first byte (a trailing partial word
/// zero-padded): proof that every byte was read.
/// </param>
public readonly record struct ReadBandwidthResult(long Bytes, double BytesPerSecond, ulong Checksum);

/// <summary>
/// How fast this machine streams a model's weights from memory with a given number of threads: the yardstick
/// that decoding's bytes per second is a fraction of. Decoding is bounded by reading every weight once per token,
/// but a VM's bandwidth drifts with its neighbours (measured here between 50 and 80 GB/s on 2 threads within an
/// hour), so a figure quoted from elsewhere misleads; this reads the same bytes (the model's mapped tensors,
/// already resident: nothing is allocated) right after the decode test, in fixed 1 MiB blocks claimed by the
/// threads like the decode kernels' row blocks, with the same software prefetch distance.
/// </summary>
public static unsafe class ReadBandwidth
{
    private const long BlockBytes = 1 << 20;

    /// <summary>Reads every byte of <paramref name="tensors"/> <paramref name="passes"/> times (after one untimed pass) on <paramref name="threads"/> threads.</summary>
    public static ReadBandwidthResult Measure(IReadOnlyList<TensorView> tensors, int threads, int passes = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        var blocks = new List<(nint Start, long Length)>();
        long bytes = 0;
        foreach (var tensor in tensors)
        {
            for (long at = 0; at < tensor.ByteSize; at += BlockBytes)
                blocks.Add(((nint)(tensor.Data + at), Math.Min(BlockBytes, tensor.ByteSize - at)));
            bytes += tensor.ByteSize;
        }
        var work = new StreamWork(blocks.ToArray());
        using var pool = new WorkerPool(threads);
        pool.Run(work, blocks.Count); // maps the pages and warms the workers
        double best = double.PositiveInfinity;
        for (int pass = 0; pass < passes; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            pool.Run(work, blocks.Count);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        ulong checksum = 0;
        foreach (ulong x in work.Sums) checksum ^= x;
        return new ReadBandwidthResult(bytes, best > 0 ? bytes / best : double.PositiveInfinity, checksum);
    }

    /// <summary>XOR-folds each block into its own slot (so no thread shares a written line with another's block).</summary>
    private sealed class StreamWork((nint Start, long Length)[] blocks) : IParallelWork
    {
        public ulong[] Sums { get; } = new ulong[blocks.Length];

        public void Execute(int item, int worker)
        {
            var (start, length) = blocks[item];
            Sums[item] = Fold((byte*)start, length);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static ulong Fold(byte* p, long length)
        {
            byte* end = p + length;
            Vector256<ulong> a = default, b = default, c = default, d = default;
            for (; p + 128 <= end; p += 128)
            {
                StepPrefetch.Ahead(p, end);
                a ^= Vector256.Load((ulong*)p);
                b ^= Vector256.Load((ulong*)(p + 32));
                c ^= Vector256.Load((ulong*)(p + 64));
                d ^= Vector256.Load((ulong*)(p + 96));
            }
            Vector256<ulong> all = a ^ b ^ c ^ d;
            ulong sum = all[0] ^ all[1] ^ all[2] ^ all[3];
            for (; p + 8 <= end; p += 8) sum ^= *(ulong*)p;
            ulong tail = 0;
            for (int shift = 0; p < end; p++, shift += 8) tail |= (ulong)*p << shift;
            return sum ^ tail;
        }
    }
}
