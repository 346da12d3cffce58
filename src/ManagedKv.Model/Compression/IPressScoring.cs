namespace ManagedKv.Model.Compression;

/// <summary>
/// Implemented by backends that have their own (vectorised or GPU) score kernels for some presses. The press
/// file's scalar <see cref="ScorerPress.Score"/> stays the oracle: a kernel must produce the same plan, which
/// the shared press matrix checks per backend.
/// </summary>
public interface IPressScoring
{
    /// <summary>Scores one head with a backend kernel; false when the backend has none for this press.</summary>
    bool TryScore(ScorerPress press, PressContext context, int kvHead, Span<float> scores);
}
