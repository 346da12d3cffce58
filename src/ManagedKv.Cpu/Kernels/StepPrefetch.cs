using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// Software prefetching for decoding, spread over a tile's steps. A decoding tile reads its four weight rows
/// one block column at a time (the four rows' blocks at column c, then column c + 1, …), so the weights are
/// consumed as a sequence of steps of 4 × <c>blockBytes</c>; before step s the kernel prefetches the step it
/// will read <see cref="Distance"/> bytes later in that order (in a later tile once the row ends). A few cache
/// lines per step keep a steady number of misses in flight while the kernel computes, instead of one burst per
/// tile that fills the miss buffers and then stalls on them (perf: a fifth of the decoding samples sat on the
/// prefetch loop). Measured on Q4_K_M, 1B, 2 threads, interleaved runs: 51.6 → 62 t/s median.
/// </summary>
internal readonly unsafe struct StepPrefetch
{
    /// <summary>
    /// How far ahead, in bytes of consumed weights: about one memory latency at a core's decoding rate (measured
    /// on Q4_K_M 1B: 12–24 KB within noise of each other, 8 KB and 48 KB 10–20 % slower).
    /// </summary>
    public const int Distance = 16384;

    private readonly long _rowBytes;
    private readonly int _blockBytes, _blocks, _stepsAhead;
    private readonly byte* _end;

    /// <summary>Prefetching for a matrix of <paramref name="args"/>' shape read in blocks of <paramref name="blockBytes"/>.</summary>
    public StepPrefetch(in MatMulArgs args, int blockBytes)
    {
        _rowBytes = args.RowBytes;
        _blockBytes = blockBytes;
        _blocks = (int)(args.RowBytes / blockBytes);
        _stepsAhead = (Distance + 4 * blockBytes - 1) / (4 * blockBytes);
        _end = args.WeightsEnd;
    }

    /// <summary>Steps between a step and the one it prefetches for: the fewest covering <see cref="Distance"/> bytes.</summary>
    public int StepsAhead => _stepsAhead;

    /// <summary>
    /// The first byte row <paramref name="row"/> (0..3) reads <see cref="Distance"/> bytes after step
    /// <paramref name="step"/> of the tile whose first row starts at <paramref name="tile"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Target(byte* tile, int step, int row)
    {
        int at = step + _stepsAhead;
        return tile + (at / _blocks) * 4 * _rowBytes + row * _rowBytes + (long)(at % _blocks) * _blockBytes;
    }

    /// <summary>Prefetches the lines of the four blocks the tile at <paramref name="tile"/> reads <see cref="Distance"/> bytes after step <paramref name="step"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Issue(byte* tile, int step)
    {
        byte* first = Target(tile, step, 0);
        for (int r = 0; r < 4; r++) Linear(first + r * _rowBytes, _blockBytes, _end);
    }

    /// <summary>
    /// Prefetches what the first <see cref="Distance"/> bytes of steps from the tile at <paramref name="tile"/>
    /// read, when a thread starts a block of rows: its steps' prefetches only run ahead of it from there.
    /// </summary>
    public void Start(byte* tile)
    {
        for (int step = -_stepsAhead; step < 0; step++) Issue(tile, step);
    }

    /// <summary>
    /// Prefetches the line <see cref="Distance"/> bytes after <paramref name="p"/> when that is below
    /// <paramref name="end"/> (a null <paramref name="end"/>: never). For kernels that read one sequential stream.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Ahead(byte* p, byte* end)
    {
        if (Sse.IsSupported && p + Distance < end) Sse.PrefetchNonTemporal(p + Distance);
    }

    /// <summary>Prefetches the first <see cref="Distance"/> bytes of rows [<paramref name="o0"/>, …) of a matrix read as one sequential stream.</summary>
    public static void StartRows(in MatMulArgs args, int o0) => Linear(args.Weights + (long)o0 * args.RowBytes, Distance, args.WeightsEnd);

    /// <summary>Prefetches every line that [<paramref name="p"/>, <paramref name="p"/> + <paramref name="bytes"/>) touches below <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Linear(byte* p, long bytes, byte* end)
    {
        byte* stop = p + bytes < end ? p + bytes : end;
        for (byte* line = (byte*)((nint)p & ~(nint)63); line < stop; line += 64) Sse.PrefetchNonTemporal(line);
    }
}
