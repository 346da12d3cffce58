using ManagedKv.Model.Cache.Kivi;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Storage change: every KV head of the layer switches to KIVI storage in <paramref name="Format"/> (keys per
/// channel, values per token, bit-packed codes, full-precision recent tail). The held tokens are quantised by
/// the same rule the storage then applies to each appended token, so a plan is needed once per layer (after
/// prefill), not per decode step. Applying it to a head already in <paramref name="Format"/> changes nothing.
/// </summary>
/// <param name="Layer">The layer.</param>
/// <param name="Format">Bits, group and residual length.</param>
public sealed record QuantizePlan(int Layer, KiviFormat Format) : KvPlan(Layer);
