namespace ManagedKv.Cli.Benchmarking;

/// <summary>
/// One repetition of a compression benchmark: a prefill of the prompt (presses run after each layer) followed by
/// a timed decode at that depth, on the compressed cache.
/// </summary>
/// <param name="PrefillSeconds">Wall time of the prefill.</param>
/// <param name="PrefillPressSeconds">Of which the presses (plans and applying them), measured by the runner.</param>
/// <param name="DecodeSeconds">Wall time of the decode loop.</param>
/// <param name="DecodePressSeconds">Of which the presses.</param>
/// <param name="DecodeAttentionSeconds">Of which the attention operation (profiled runs; null otherwise).</param>
/// <param name="CacheBytes">Bytes the cache holds after the decode.</param>
/// <param name="FullCacheBytes">Bytes an uncompressed cache of the same sequence would hold.</param>
public sealed record PressRun(double PrefillSeconds, double PrefillPressSeconds, double DecodeSeconds, double DecodePressSeconds,
    double? DecodeAttentionSeconds, long CacheBytes, long FullCacheBytes);
