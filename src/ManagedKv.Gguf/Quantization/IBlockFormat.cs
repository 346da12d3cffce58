namespace ManagedKv.Gguf;

/// <summary>
/// A quantised block layout, as static members so that the shared loops (<see cref="LegacyQuant"/>,
/// <see cref="KQuant"/>, <see cref="KQuantAsym"/>) are specialised per format by the JIT, with no delegate or
/// virtual calls. Each public format class (<see cref="Q4_0"/>, <see cref="Q3K"/>, …) implements it in a nested
/// <c>Format</c> struct, next to the block layout it documents.
/// </summary>
internal interface IBlockFormat
{
    /// <summary>Values per block.</summary>
    static abstract int BlockSize { get; }

    /// <summary>Bytes per block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Offset of the block's f16 scale <c>d</c>.</summary>
    static abstract int OffsetD { get; }

    /// <summary>
    /// The block's <see cref="BlockSize"/> codes in value order, one signed byte each, zero point already
    /// subtracted (the factor that multiplies the scale).
    /// </summary>
    static abstract void Unpack(ReadOnlySpan<byte> block, Span<sbyte> q);
}
