namespace ManagedKv.Model.Synthesis;

/// <summary>A progress report of <see cref="ModelSynthesizer"/>.</summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Done">Work done in this phase: values scanned, or data bytes written.</param>
/// <param name="Total">Total work of this phase, in the same unit.</param>
public readonly record struct SynthesisProgress(SynthesisPhase Phase, long Done, long Total)
{
    /// <summary><see cref="Done"/> as a fraction of <see cref="Total"/>, in [0, 1].</summary>
    public double Fraction => Total <= 0 ? 1 : Math.Clamp((double)Done / Total, 0, 1);
}
