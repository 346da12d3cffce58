namespace ManagedKv.Gguf;

/// <summary>Block layout facts of a <see cref="GgmlType"/>: elements per block and bytes per block.</summary>
public readonly record struct GgmlTypeInfo(GgmlType Type, int BlockSize, int BlockBytes)
{
    /// <summary>True for types whose values are stored in quantised blocks of more than one element.</summary>
    public bool IsQuantized => BlockSize > 1;

    /// <summary>Bytes taken by <paramref name="elements"/> values; the count must be a multiple of the block size.</summary>
    public long RowBytes(long elements) => elements / BlockSize * BlockBytes;

    /// <summary>Layout of <paramref name="type"/>, or null for ids ggml does not define.</summary>
    public static GgmlTypeInfo? TryGet(GgmlType type) => type switch
    {
        GgmlType.F32 => new(type, 1, 4),
        GgmlType.F16 => new(type, 1, 2),
        GgmlType.BF16 => new(type, 1, 2),
        GgmlType.F64 => new(type, 1, 8),
        GgmlType.I8 => new(type, 1, 1),
        GgmlType.I16 => new(type, 1, 2),
        GgmlType.I32 => new(type, 1, 4),
        GgmlType.I64 => new(type, 1, 8),
        GgmlType.Q4_0 => new(type, 32, 18),
        GgmlType.Q4_1 => new(type, 32, 20),
        GgmlType.Q5_0 => new(type, 32, 22),
        GgmlType.Q5_1 => new(type, 32, 24),
        GgmlType.Q8_0 => new(type, 32, 34),
        GgmlType.Q8_1 => new(type, 32, 36),
        GgmlType.Q2_K => new(type, 256, 84),
        GgmlType.Q3_K => new(type, 256, 110),
        GgmlType.Q4_K => new(type, 256, 144),
        GgmlType.Q5_K => new(type, 256, 176),
        GgmlType.Q6_K => new(type, 256, 210),
        GgmlType.Q8_K => new(type, 256, 292),
        GgmlType.IQ2_XXS => new(type, 256, 66),
        GgmlType.IQ2_XS => new(type, 256, 74),
        GgmlType.IQ3_XXS => new(type, 256, 98),
        GgmlType.IQ1_S => new(type, 256, 50),
        GgmlType.IQ4_NL => new(type, 32, 18),
        GgmlType.IQ3_S => new(type, 256, 110),
        GgmlType.IQ2_S => new(type, 256, 82),
        GgmlType.IQ4_XS => new(type, 256, 136),
        GgmlType.IQ1_M => new(type, 256, 56),
        GgmlType.TQ1_0 => new(type, 256, 54),
        GgmlType.TQ2_0 => new(type, 256, 66),
        GgmlType.MXFP4 => new(type, 32, 17),
        _ => null,
    };

    /// <summary>Layout of <paramref name="type"/>; throws <see cref="ArgumentException"/> for unknown ids.</summary>
    public static GgmlTypeInfo Get(GgmlType type) =>
        TryGet(type) ?? throw new ArgumentException($"unknown ggml type id {(uint)type}", nameof(type));
}
