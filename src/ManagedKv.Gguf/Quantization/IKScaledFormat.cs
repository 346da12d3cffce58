namespace ManagedKv.Gguf;

/// <summary>
/// A K-quant with one signed scale per sub-block of 16 and no minimum, x = (d·scale[s])·q over 16 sub-blocks
/// of 16 values (Q3_K, Q6_K).
/// </summary>
internal interface IKScaledFormat : IBlockFormat
{
    /// <summary>The effective signed scale of sub-block <paramref name="s"/> (0..15), offset removed.</summary>
    static abstract int Scale(ReadOnlySpan<byte> block, int s);
}
