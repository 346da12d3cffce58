namespace ManagedKv.Gguf;

/// <summary>A 32-value 8-bit format, x = d·q with the int8 codes stored as they are (Q8_0, Q8_1).</summary>
internal interface IQ8Format : IBlockFormat
{
    /// <summary>Offset of the 32 int8 codes.</summary>
    static abstract int OffsetQs { get; }

    /// <summary>
    /// Writes the block's f16 fields: the scale <paramref name="d"/> and, where the format has one, the
    /// scaled code sum <paramref name="s"/> = d·Σq (both raw f16 bits).
    /// </summary>
    static abstract void WriteScales(Span<byte> block, ushort d, ushort s);
}
