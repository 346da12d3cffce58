using ManagedKv.Model.Evaluation.Results;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>One press setting's retrieval scores over the grid.</summary>
/// <param name="Setting">The press setting.</param>
/// <param name="Prompts">Prompts scored.</param>
/// <param name="ExactMatch">Mean exact match.</param>
/// <param name="PartialMatch">Mean partial match.</param>
/// <param name="EffectiveRatio">Kept cache bytes / full cache bytes, summed over prompts.</param>
/// <param name="ExactByCell">[depth, length] mean exact match per grid cell (NaN where no prompt ran).</param>
/// <param name="PartialByCell">[depth, length] mean partial match per grid cell (NaN where no prompt ran).</param>
public sealed record RetrievalRow(PressConfiguration Setting, int Prompts, double ExactMatch, double PartialMatch, double EffectiveRatio,
    double[,] ExactByCell, double[,] PartialByCell);
