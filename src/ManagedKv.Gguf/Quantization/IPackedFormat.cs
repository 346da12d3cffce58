namespace ManagedKv.Gguf;

/// <summary>A block format whose codes are written through one packing step (the inverse of its unpacking).</summary>
internal interface IPackedFormat : IBlockFormat
{
    /// <summary>
    /// Stores <see cref="IBlockFormat.BlockSize"/> unsigned codes (zero point included, one byte each) into
    /// the code fields of <paramref name="block"/>, leaving the scale fields alone.
    /// </summary>
    static abstract void Pack(ReadOnlySpan<byte> codes, Span<byte> block);
}
