using System.Diagnostics;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// After warm-up, 50 decode steps allocate nothing. The warm-up takes the sequence to 1030 tokens so the cache's
/// doubling arrays (and the backend's per-thread score buffers) already hold every position measured. In every
/// measured window (the first may carry a one-time runtime allocation, logged) the decoding thread and the pool's worker threads must allocate exactly 0 bytes, and a window
/// must show 0 bytes process-wide (GC.GetTotalAllocatedBytes(true)). The test host itself allocates 168 bytes
/// about every 100 ms even while the process idles (measured), so each window starts right after such a tick
/// and windows are repeated (up to 10) until one is free of that noise; outside the test host every window
/// reads 0. Not parallelised with other tests.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class AllocationTests
{
    [TestMethod]
    [DataRow("stories260K")]
    [DataRow("tiny-llama-Q4_K_M")]
    [DataRow("tiny-qwen2-Q8_0")]
    public void DecodeAllocatesNothingAfterWarmUp(string model)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        using var backend = new CpuBackend(2);
        using var transformer = new Transformer(source, backend);
        var session = new Session(transformer);
        int token = ModelRun.ArgMax(session.Prefill(golden.PromptTokens("girl")));
        while (session.Position < 1030) token = ModelRun.ArgMax(session.Decode(token));

        var processWide = new List<long>(10);
        for (int window = 0; window < 10 && !processWide.Contains(0); window++)
        {
            WaitForHostAllocation(TimeSpan.FromMilliseconds(250));
            long total = GC.GetTotalAllocatedBytes(precise: true);
            long caller = GC.GetAllocatedBytesForCurrentThread();
            long workers = backend.WorkerAllocatedBytes;
            for (int i = 0; i < 50; i++) token = ModelRun.ArgMax(session.Decode(token));
            long processBytes = GC.GetTotalAllocatedBytes(precise: true) - total;
            long callerBytes = GC.GetAllocatedBytesForCurrentThread() - caller;
            processWide.Add(processBytes);
            Thread.Sleep(20); // let the workers publish their counters after their last job
            long workerBytes = backend.WorkerAllocatedBytes - workers;
            if (window == 0 && callerBytes + workerBytes > 0 && !processWide.Contains(0))
            {
                // A one-time runtime allocation may land in the first window: once, under CI load, the decoding
                // thread allocated 8064 bytes here (lazily created runtime state, not reproducible alone). A
                // per-token allocation repeats, so every later window must be clean.
                Console.WriteLine($"{model} window 0: {callerBytes} bytes on the decoding thread, {workerBytes} on the workers (one-time)");
                continue;
            }
            Assert.AreEqual(0L, callerBytes, $"{model} window {window}: the decoding thread allocated {callerBytes} bytes");
            Assert.AreEqual(0L, workerBytes, $"{model} window {window}: the worker threads allocated {workerBytes} bytes");
        }
        CollectionAssert.Contains(processWide, 0L, $"{model}: no window of 50 decode steps was allocation-free process-wide: {string.Join(", ", processWide)} bytes");
    }

    /// <summary>Spins (allocation-free) until another thread allocates, or the timeout passes.</summary>
    private static void WaitForHostAllocation(TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp(), seen = GC.GetTotalAllocatedBytes(precise: true);
        while (GC.GetTotalAllocatedBytes(precise: true) == seen && Stopwatch.GetElapsedTime(start) < timeout) Thread.SpinWait(100);
    }
}
