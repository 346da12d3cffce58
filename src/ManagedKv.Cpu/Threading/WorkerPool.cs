using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace ManagedKv.Cpu.Threading;

/// <summary>
/// A small fork-join pool: <c>threads − 1</c> dedicated workers plus the calling thread. Decoding issues a
/// couple of hundred short jobs per token, so dispatch must cost a few microseconds at most and, above all,
/// move few cache lines between cores (two vCPUs may sit on different CCDs, where each transfer costs
/// hundreds of nanoseconds). The job descriptor, the claim counter and the pending counter therefore each own
/// a cache line; idle workers spin on the descriptor's generation for a while before blocking; items are
/// claimed with one compare-exchange on a word that packs the job's generation with the next item index (so a
/// late worker can never claim an item of a newer job through a stale job object), and each thread reports its
/// finished items once per job. Nothing is allocated per job.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    // How long an idle worker spins before it blocks: long enough to bridge the gaps between the operations of
    // one decoded token, short enough not to burn a core when the model is idle.
    private static readonly long SpinTicks = Stopwatch.Frequency / 2000; // 0.5 ms

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly long[] _allocated; // [threads] bytes each worker thread had allocated after its last job (diagnostics)
    private JobLine _job;
    private CounterLine _claim;    // (generation << 32) | next item index
    private CounterLine _pending;  // items not yet finished in the current job
    private int _sleepers;         // workers blocked on _gate
    private volatile bool _stopping;
    private Exception? _failure;

    /// <summary>The job descriptor the workers poll, alone on its cache lines.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct JobLine
    {
        [FieldOffset(64)] public int Generation;
        [FieldOffset(68)] public int Count;
        [FieldOffset(72)] public IParallelWork? Work;
    }

    /// <summary>A counter alone on its cache lines.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct CounterLine
    {
        [FieldOffset(64)] public long Value;
    }

    /// <summary>Starts <paramref name="threads"/> − 1 workers.</summary>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _allocated = new long[threads];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"ManagedKv.Cpu worker {worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that execute items, the caller included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Runs items [0, <paramref name="count"/>) of <paramref name="work"/> and returns when all are done;
    /// the first exception thrown by an item is rethrown here.
    /// </summary>
    public void Run(IParallelWork work, int count)
    {
        if (count <= 0) return;
        if (count == 1 || Threads == 1)
        {
            for (int i = 0; i < count; i++) work.Execute(i, 0);
            return;
        }
        _failure = null;
        int generation = _job.Generation + 1;
        Volatile.Write(ref _pending.Value, count);
        Volatile.Write(ref _claim.Value, (long)generation << 32);
        _job.Work = work;
        _job.Count = count;
        Interlocked.Exchange(ref _job.Generation, generation); // full fence: publishes the job before the wake-up check
        if (Volatile.Read(ref _sleepers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);

        Drain(generation, work, count, 0);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending.Value) != 0)
        {
            if (spin.Count < 30) spin.SpinOnce(-1);
            else Thread.Yield();
        }
        _job.Work = null;
        if (_failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Drain(int generation, IParallelWork work, int count, int worker)
    {
        int done = 0;
        while (true)
        {
            long claim = Volatile.Read(ref _claim.Value);
            if ((int)(claim >> 32) != generation) break;
            int index = (int)claim;
            if (index >= count) break;
            if (Interlocked.CompareExchange(ref _claim.Value, claim + 1, claim) != claim) continue;
            try
            {
                work.Execute(index, worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            done++;
        }
        if (done > 0) Interlocked.Add(ref _pending.Value, -done);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WorkerLoop(int worker)
    {
        int seen = 0;
        while (true)
        {
            int generation = Volatile.Read(ref _job.Generation);
            if (generation == seen)
            {
                long start = Stopwatch.GetTimestamp();
                for (int spins = 0; (generation = Volatile.Read(ref _job.Generation)) == seen && !_stopping; spins++)
                {
                    Thread.SpinWait(1);
                    if ((spins & 63) == 63 && Stopwatch.GetTimestamp() - start > SpinTicks)
                    {
                        lock (_gate)
                        {
                            Interlocked.Increment(ref _sleepers); // full fence before re-checking the generation
                            while ((generation = Volatile.Read(ref _job.Generation)) == seen && !_stopping) Monitor.Wait(_gate);
                            Interlocked.Decrement(ref _sleepers);
                        }
                        break;
                    }
                }
            }
            if (_stopping) return;
            seen = generation;
            var work = _job.Work;
            int count = _job.Count;
            if (work is not null) Drain(generation, work, count, worker);
            Volatile.Write(ref _allocated[worker], GC.GetAllocatedBytesForCurrentThread());
        }
    }

    /// <summary>
    /// Total bytes the worker threads (not the caller) had allocated when they last finished a job; lets tests
    /// check that the pool's own threads allocate nothing even where other threads of the process do.
    /// </summary>
    internal long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 1; i < _allocated.Length; i++) sum += Volatile.Read(ref _allocated[i]);
            return sum;
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        _stopping = true;
        lock (_gate) Monitor.PulseAll(_gate);
        foreach (var t in _threads) t.Join();
    }
}
