using System.Text.Json.Serialization;
using ManagedKv.Model.Evaluation.Results;

namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>
/// One press setting on one window: sums over the continuation's teacher-forced predictions (so windows
/// aggregate exactly) and the cache's size once the compressed context was prefilled.
/// </summary>
/// <param name="Setting">The press setting's key (<see cref="PressConfiguration.Key"/>).</param>
/// <param name="Press">Press or composition name.</param>
/// <param name="Compression">Requested ratio (null: ignored by the presses).</param>
/// <param name="Window">Window index in the text.</param>
/// <param name="Tokens">Predictions scored.</param>
/// <param name="NegativeLogLikelihood">Σ −log q(next token), nats.</param>
/// <param name="KlDivergence">Σ KL(full ‖ compressed), nats.</param>
/// <param name="Top1Agreements">Predictions whose most likely token equals the full cache's.</param>
/// <param name="CacheBytes">Bytes the cache holds after the prefill (and its compression).</param>
/// <param name="FullCacheBytes">Bytes an uncompressed f32 cache holds for the same positions.</param>
/// <param name="FinalCacheBytes">Bytes the cache holds at the end of the continuation (decode-time presses keep compressing).</param>
/// <param name="FinalFullCacheBytes">Uncompressed bytes for the positions at the end of the continuation.</param>
public sealed record FidelityCell(string Setting, string Press, double? Compression, int Window, int Tokens,
    double NegativeLogLikelihood, double KlDivergence, int Top1Agreements, long CacheBytes, long FullCacheBytes,
    long FinalCacheBytes, long FinalFullCacheBytes) : IEvalCell
{
    /// <inheritdoc/>
    [JsonIgnore]
    public string Key => KeyOf(Setting, Window);

    /// <summary>The key of window <paramref name="window"/> under setting <paramref name="setting"/>.</summary>
    public static string KeyOf(string setting, int window) => $"{setting}|window {window}";
}
