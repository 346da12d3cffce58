using BenchmarkDotNet.Attributes;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Config;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Synthesis;

namespace ManagedKv.Benchmarks;

/// <summary>
/// Each registered press deciding its prefill plan for one layer of 4096 tokens (SmolLM2-135M's shape: 3 KV heads
/// of 64, compression 0.75): scoring and selection, without applying the plan (plans are pure functions of the
/// cache, so the cache stays as set up; a fresh press per call, since LagKV remembers what it compressed). KIVI's
/// plan is a format switch: its cost is quantising in <see cref="KvCache.Apply"/>, which <c>managedkv bench
/// --press kivi</c> measures. Attention-scoring presses read seeded random statistics of the right size.
/// </summary>
[MemoryDiagnoser]
public class PressScoringBenchmarks
{
    private const int Tokens = 4096;
    private const int Layer = 16; // a compressed layer for every press: past KNorm's skipped layers, the upper layer of a MiniCache pair
    private readonly ModelConfig _config = SyntheticShape.SmolLm2_135M.Config;
    private PressDescriptor _descriptor = null!;
    private PressContext _context = null!;

    /// <summary>Every registered press.</summary>
    public static IEnumerable<string> PressNames => PressRegistry.All.Select(d => d.Name);

    /// <summary>The press.</summary>
    [ParamsSource(nameof(PressNames))]
    public string Press { get; set; } = "";

    /// <summary>Fills layers 15 and 16 (MiniCache merges the pair) and the statistics.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _descriptor = PressRegistry.Get(Press);
        var cache = SmolLm2Cache.Create(_config.BlockCount, [Layer - 1, Layer], Tokens);
        var statistics = new AttentionStatistics(_config.HeadCount);
        statistics.Begin(new PositionRange(0, Tokens), 0);
        var random = new Random(3);
        for (int h = 0; h < _config.HeadCount; h++)
        {
            var sums = statistics.Accumulator(h, Tokens);
            for (int t = 0; t < Tokens; t++) sums[t] = (float)random.NextDouble();
        }
        _context = new PressContext(Layer, cache, _config, CompressionPhase.Prefill, null, statistics);
    }

    /// <summary>A fresh press's prefill plan for the layer.</summary>
    [Benchmark]
    public KvPlan? Plan() => _descriptor.Create(new CompressionBudget { Compression = 0.75 }).CompressPrefill(_context);
}
