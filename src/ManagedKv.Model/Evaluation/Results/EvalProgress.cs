namespace ManagedKv.Model.Evaluation.Results;

/// <summary>Progress of a run, reported after each cell.</summary>
/// <param name="Done">Cells finished, including those resumed from the result file.</param>
/// <param name="Total">Cells in the run.</param>
/// <param name="Resumed">Cells taken from the result file rather than computed.</param>
/// <param name="Current">Label of the cell just finished.</param>
public readonly record struct EvalProgress(int Done, int Total, int Resumed, string Current);
