namespace ManagedKv.Model.Numerics;

/// <summary>The 12-byte packed 6-bit scales and mins of Q4_K and Q5_K super-blocks (ggml's <c>get_scale_min_k4</c>).</summary>
internal static class KScales
{
    /// <summary>Unpacks the eight scales and eight mins of one super-block.</summary>
    public static void Unpack6(ReadOnlySpan<byte> q, Span<byte> scales, Span<byte> mins)
    {
        for (int j = 0; j < 8; j++)
        {
            if (j < 4)
            {
                scales[j] = (byte)(q[j] & 63);
                mins[j] = (byte)(q[j + 4] & 63);
            }
            else
            {
                scales[j] = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
                mins[j] = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
            }
        }
    }
}
