namespace ManagedKv.Model.Synthesis;

/// <summary>What a <see cref="ModelSynthesizer"/> is doing when it reports progress.</summary>
public enum SynthesisPhase
{
    /// <summary>Running the random stream once to record where each chunk of rows starts (sequential).</summary>
    Scanning,
    /// <summary>Generating, quantising and writing tensor data (parallel).</summary>
    Writing,
}
