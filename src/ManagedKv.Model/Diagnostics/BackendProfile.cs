using System.Diagnostics;

namespace ManagedKv.Model.Diagnostics;

/// <summary>A snapshot of a <see cref="TimedBackend"/>'s counters: time and calls per <see cref="BackendOp"/>.</summary>
public sealed class BackendProfile
{
    private readonly long[] _ticks, _calls; // [ops] Stopwatch ticks, calls

    internal BackendProfile(long[] ticks, long[] calls)
    {
        _ticks = ticks;
        _calls = calls;
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
}
