namespace ManagedKv.Gguf;

/// <summary>
/// A K-quant with a scale and a minimum per sub-block, x = (d·sc[s])·q − dmin·m[s] (Q2_K with 16 sub-blocks of
/// 16, Q4_K and Q5_K with 8 of 32).
/// </summary>
internal interface IKMinimumFormat : IBlockFormat
{
    /// <summary>Values per sub-block.</summary>
    static abstract int SubBlockSize { get; }

    /// <summary>Offset of the f16 super-block scale of the mins.</summary>
    static abstract int OffsetDmin { get; }

    /// <summary>Offset of the packed sub-block scales and mins.</summary>
    static abstract int OffsetScales { get; }

    /// <summary>The quantised scale and min of sub-block <paramref name="s"/>.</summary>
    static abstract void ScaleMin(ReadOnlySpan<byte> block, int s, out int scale, out int min);
}
