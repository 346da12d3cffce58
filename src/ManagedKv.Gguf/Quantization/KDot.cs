namespace ManagedKv.Gguf;

/// <summary>The eight-lane integer accumulation shared by the generic ggml K-quant dot products.</summary>
internal static class KDot
{
    /// <summary>
    /// For each group of 8 values: aux16[l] = q8[l]·a[l] (fits int16), aux32[l] += scale·aux16[l].
    /// <paramref name="a"/> and <paramref name="q8"/> must have the same length, a multiple of 8.
    /// </summary>
    public static void Accumulate(Span<int> aux32, int scale, ReadOnlySpan<sbyte> a, ReadOnlySpan<byte> q8)
    {
        for (int g = 0; g < a.Length; g += 8)
        {
            for (int l = 0; l < 8; ++l)
            {
                short aux16 = (short)((sbyte)q8[g + l] * a[g + l]);
                aux32[l] += scale * aux16;
            }
        }
    }
}
