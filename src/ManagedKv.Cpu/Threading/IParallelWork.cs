namespace ManagedKv.Cpu.Threading;

/// <summary>
/// A job split into a fixed number of independent items. The split depends only on the problem's shape,
/// never on the number of threads, and every item is computed by the same code whichever thread runs it,
/// so results are bit-identical for any thread count.
/// </summary>
internal interface IParallelWork
{
    /// <summary>Runs item <paramref name="item"/>; <paramref name="worker"/> (0 = the caller) selects per-thread scratch.</summary>
    void Execute(int item, int worker);
}
