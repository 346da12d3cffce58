namespace ManagedKv.Gguf;

/// <summary>Argument checks shared by the row-level (de)quantisers and dot products.</summary>
internal static class Rows
{
    /// <summary>
    /// Checks that <paramref name="elements"/> is a whole number of blocks and that <paramref name="bytes"/>
    /// holds exactly that many blocks; returns the block count.
    /// </summary>
    public static int Check(ReadOnlySpan<byte> bytes, int elements, int blockSize, int blockBytes)
    {
        if (elements % blockSize != 0)
            throw new ArgumentException($"row length {elements} is not a multiple of the block size {blockSize}", "elements");
        int blocks = elements / blockSize;
        if (bytes.Length != (long)blocks * blockBytes)
            throw new ArgumentException(
                $"{elements} values need {(long)blocks * blockBytes} bytes ({blocks} blocks of {blockBytes}), got {bytes.Length}", "bytes");
        return blocks;
    }

    /// <summary>
    /// Checks a weight row of whole blocks and an activation row with the same number of blocks of its own
    /// type; returns the block count.
    /// </summary>
    public static int CheckDot(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, int xBlockBytes, int yBlockBytes)
    {
        if (x.Length % xBlockBytes != 0)
            throw new ArgumentException($"weight row of {x.Length} bytes is not a whole number of {xBlockBytes}-byte blocks", nameof(x));
        int blocks = x.Length / xBlockBytes;
        if (y.Length != (long)blocks * yBlockBytes)
            throw new ArgumentException(
                $"activation row must hold {blocks} blocks of {yBlockBytes} bytes ({(long)blocks * yBlockBytes}), got {y.Length}", nameof(y));
        return blocks;
    }
}
