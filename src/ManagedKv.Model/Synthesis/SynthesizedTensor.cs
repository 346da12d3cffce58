using ManagedKv.Gguf;

namespace ManagedKv.Model.Synthesis;

/// <summary>One tensor a <see cref="ModelSynthesizer"/> writes.</summary>
/// <param name="Name">GGUF tensor name.</param>
/// <param name="Dimensions">ggml dimensions, ne[0] (the row length) first.</param>
/// <param name="Type">Stored type, as llama-quantize would choose it for the requested mix.</param>
/// <param name="Kind">How its values are drawn.</param>
/// <param name="DrawIndex">Position in the order values are drawn from the random stream (the recipe's file order).</param>
public sealed record SynthesizedTensor(string Name, long[] Dimensions, GgmlType Type, WeightKind Kind, int DrawIndex)
{
    /// <summary>Elements per row (ne[0]).</summary>
    public long RowLength => Dimensions[0];

    /// <summary>Number of rows (the product of the other dimensions).</summary>
    public long RowCount => Dimensions.Skip(1).Aggregate(1L, (a, d) => a * d);

    /// <summary>Number of elements.</summary>
    public long ElementCount => RowLength * RowCount;

    /// <summary>Bytes of data in the stored type.</summary>
    public long ByteSize => GgmlTypeInfo.Get(Type).RowBytes(RowLength) * RowCount;
}
