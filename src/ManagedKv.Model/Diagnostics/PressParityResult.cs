namespace ManagedKv.Model.Diagnostics;

/// <summary>
/// What <see cref="BackendParity"/> found for one press: whether the candidate backend made the oracle's plans,
/// generated the oracle's greedy tokens, and how far its logits strayed.
/// </summary>
/// <param name="Press">The press's registry name (or the label it was run under).</param>
/// <param name="PlansCompared">Plans compared (those made while both runs had seen the same tokens).</param>
/// <param name="HeadsCompared">Distinct (layer, KV head) pairs that the compared plans and storage cover.</param>
/// <param name="HeadsDiffering">Distinct (layer, KV head) pairs where some plan (kept positions, merge sets,
/// quantisation format) differs.</param>
/// <param name="FirstPlanDifference">A description of the first plan difference, null when none.</param>
/// <param name="StorageHeadsCompared">(layer, KV head) pairs whose final storage has a fingerprint (quantised: KIVI).</param>
/// <param name="StorageHeadsDiffering">Those whose fingerprint (a hash of codes and scales) differs. Informational: the
/// hash changes with any ulp of the keys and values quantised, which backends need not match bit for bit; a real
/// quantisation error shows in the logits.</param>
/// <param name="FirstStorageDifference">A description of the first fingerprint difference, null when none.</param>
/// <param name="GreedySteps">Greedy tokens generated per backend (the first comes from the prefill's logits).</param>
/// <param name="FirstDivergentStep">The first step whose greedy token differs, null when all agree.</param>
/// <param name="DivergenceIsNearTie">At the divergent step the oracle's top-1/top-2 margin was within twice the
/// step's logit difference: a tie that floating-point order may break either way.</param>
/// <param name="MaxLogitDifference">max |candidate − oracle| over the logits of every step up to the first divergent
/// one (later steps read different tokens).</param>
/// <param name="RelativeLogitDifference">max over those steps of the step's difference divided by the oracle's
/// logit range (max − min) at that step.</param>
/// <param name="Tolerance">The relative logit tolerance the verdict used.</param>
public sealed record PressParityResult(string Press, int PlansCompared, int HeadsCompared, int HeadsDiffering, string? FirstPlanDifference,
    int StorageHeadsCompared, int StorageHeadsDiffering, string? FirstStorageDifference,
    int GreedySteps, int? FirstDivergentStep, bool DivergenceIsNearTie, double MaxLogitDifference, double RelativeLogitDifference,
    double Tolerance)
{
    /// <summary>Whether every compared plan is identical.</summary>
    public bool PlansEqual => HeadsDiffering == 0;

    /// <summary>Whether every greedy token is identical.</summary>
    public bool GreedyEqual => FirstDivergentStep is null;

    /// <summary>
    /// The verdict (storage fingerprints are reported, not judged): equal plans, logits within <see cref="Tolerance"/> of the range, and greedy tokens equal or
    /// diverging only at a near tie.
    /// </summary>
    public bool WithinTolerance => PlansEqual && RelativeLogitDifference <= Tolerance && (GreedyEqual || DivergenceIsNearTie);
}
