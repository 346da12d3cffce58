namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>
/// Receives the values of one unit (32 values, or 1 for float formats) as a weight format decodes them in
/// registers: the matrix product's accumulators (<see cref="DotSink"/>) or the embedding's row writer
/// (<see cref="StoreSink"/>). One decoder per format serves both, so the bit-unpacking is written once.
/// </summary>
internal interface IValueSink
{
    /// <summary>Value <paramref name="i"/> of the unit is <paramref name="value"/> (plus the unit's offset, if any).</summary>
    void Put(int i, float value);

    /// <summary>
    /// Every value of the unit also carries <paramref name="offset"/> (the minimum m of Q4_1/Q5_1). Kept apart so
    /// the dot product can use the activation block's precomputed d·Σq as ggml does (m·s), not m·Σx.
    /// </summary>
    void Offset(float offset);
}
