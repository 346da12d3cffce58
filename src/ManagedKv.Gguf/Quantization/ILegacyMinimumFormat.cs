namespace ManagedKv.Gguf;

/// <summary>A 32-value format with a stored minimum, x = d·q + m (Q4_1, Q5_1).</summary>
internal interface ILegacyMinimumFormat : IBlockFormat
{
    /// <summary>Offset of the f16 minimum <c>m</c>.</summary>
    static abstract int OffsetM { get; }
}
