using System.Diagnostics;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Diagnostics;

/// <summary>
/// A snapshot of a <see cref="TimedBackend"/>'s counters: time and calls per <see cref="BackendOp"/>, and the
/// matrix products' time split by weight type (a Q4_K_M file mixes Q4_K and Q6_K matrices, whose kernels differ).
/// </summary>
public sealed class BackendProfile
{
    /// <summary>Counter slots for weight types: every <see cref="GgmlType"/> value below it has its own, the rest share the last.</summary>
    internal const int WeightTypeSlots = 64;

    private readonly long[] _ticks, _calls;             // [ops] Stopwatch ticks, calls
    private readonly long[] _matMulTicks, _matMulCalls; // [WeightTypeSlots]

    internal BackendProfile(long[] ticks, long[] calls, long[] matMulTicks, long[] matMulCalls)
    {
        _ticks = ticks;
        _calls = calls;
        _matMulTicks = matMulTicks;
        _matMulCalls = matMulCalls;
    }

    /// <summary>Every operation, in enum order.</summary>
    public static IReadOnlyList<BackendOp> Operations { get; } = Enum.GetValues<BackendOp>();

    /// <summary>Time spent in <paramref name="op"/>.</summary>
    public TimeSpan Elapsed(BackendOp op) => Stopwatch.GetElapsedTime(0, _ticks[(int)op]);

    /// <summary>Calls of <paramref name="op"/>.</summary>
    public long Calls(BackendOp op) => _calls[(int)op];

    /// <summary>Time spent in all operations together.</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(0, _ticks.Sum());

    /// <summary>
    /// <paramref name="op"/>'s time as a fraction of <paramref name="wall"/> (e.g. a decode loop's wall-clock time,
    /// which also holds the time spent outside the backend); 0 when <paramref name="wall"/> is zero.
    /// </summary>
    public double Share(BackendOp op, TimeSpan wall) => wall > TimeSpan.Zero ? Elapsed(op) / wall : 0;

    /// <summary>The weight types whose matrix products were called, in enum order.</summary>
    public IReadOnlyList<GgmlType> MatMulTypes =>
        Enumerable.Range(0, WeightTypeSlots).Where(i => _matMulCalls[i] > 0).Select(i => (GgmlType)i).ToList();

    /// <summary>Time spent in matrix products with <paramref name="type"/> weights.</summary>
    public TimeSpan MatMulElapsed(GgmlType type) => Stopwatch.GetElapsedTime(0, _matMulTicks[Slot(type)]);

    /// <summary>Matrix products with <paramref name="type"/> weights.</summary>
    public long MatMulCalls(GgmlType type) => _matMulCalls[Slot(type)];

    private static int Slot(GgmlType type) => Math.Min((int)type, WeightTypeSlots - 1);
}
