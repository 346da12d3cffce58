using BenchmarkDotNet.Attributes;
using ManagedKv.Cpu;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;

namespace ManagedKv.Benchmarks;

/// <summary>
/// <see cref="CpuBackend.Attention"/> at 4k cached tokens, SmolLM2-135M's shape, 2 threads: one decode row, and the
/// last 512-row micro-batch of a 4096-token prefill. <see cref="Plain"/> is the no-press path (statistics = null);
/// in a checkout without the statistics option the project builds it alone (BeforeStatistics), which is
/// how the "no slower than before" comparison is made. <c>WithStatistics</c> sums every query row's
/// probabilities (the most statistics work a press can ask for).
/// </summary>
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private const int Context = 4096;
    private CpuBackend _backend = null!;
    private KvCache _cache = null!;
    private HostTensor _q = null!;      // [rows, heads·headDim]
    private HostTensor _output = null!; // [rows, heads·headDim]
    private int[] _positions = [];      // [rows]
#if !BEFORE_STATISTICS
    private AttentionStatistics _statistics = null!;
#endif

    /// <summary>Query rows: 1 (a decode step) or 512 (a prefill micro-batch).</summary>
    [Params(1, 512)]
    public int Rows { get; set; }

    /// <summary>Builds the cache (positions 0…4095 for a prefill batch, 0…4096 for a decode row) and the queries.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int cached = Rows == 1 ? Context + 1 : Context;
        _backend = new CpuBackend(2);
        _cache = SmolLm2Cache.Create(1, [0], cached);
        _q = new HostTensor(Rows, SmolLm2Cache.Heads * SmolLm2Cache.HeadDim);
        _output = new HostTensor(Rows, SmolLm2Cache.Heads * SmolLm2Cache.HeadDim);
        SmolLm2Cache.Fill(new Random(7), _q.Data);
        _positions = Enumerable.Range(cached - Rows, Rows).ToArray();
#if !BEFORE_STATISTICS
        _statistics = new AttentionStatistics(SmolLm2Cache.Heads);
#endif
    }

    /// <summary>Releases the backend's threads.</summary>
    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();

    /// <summary>The plain kernel (no statistics).</summary>
    [Benchmark(Baseline = true)]
    public void Plain() => _backend.Attention(_q, _cache, 0, _positions, _output);

#if !BEFORE_STATISTICS
    /// <summary>The kernel summing every row's attention probabilities.</summary>
    [Benchmark]
    public void WithStatistics()
    {
        _statistics.Begin(new PositionRange(_positions[0], _positions[^1] + 1), _positions[0]);
        _backend.Attention(_q, _cache, 0, _positions, _output, _statistics);
    }
#endif
}
