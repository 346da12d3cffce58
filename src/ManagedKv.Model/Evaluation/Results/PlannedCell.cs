namespace ManagedKv.Model.Evaluation.Results;

/// <summary>A cell of a run's plan: its key, a label for progress, and how to compute it.</summary>
/// <param name="Key">The key the computed cell will have.</param>
/// <param name="Label">Shown while it runs.</param>
/// <param name="Compute">Computes the cell (called only when the store lacks it).</param>
public sealed record PlannedCell<TCell>(string Key, string Label, Func<TCell> Compute) where TCell : IEvalCell;
