using ManagedKv.Gguf;

namespace ManagedKv.Model.Reference;

/// <summary>
/// Converts an f32 activation row into the dot-product type a weight type pairs with, as ggml-cpu does before
/// a matrix multiplication: Q8_0/Q8_1/Q8_K blocks for quantised weights, F16/BF16 rows for half-precision
/// weights, the f32 bytes themselves for F32 weights.
/// </summary>
public static class ActivationEncoder
{
    /// <summary>Encodes <paramref name="x"/> as <paramref name="dotType"/> into <paramref name="destination"/>.</summary>
    public static void Encode(GgmlType dotType, ReadOnlySpan<float> x, Span<byte> destination)
    {
        switch (dotType)
        {
            case GgmlType.F32:
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(x).CopyTo(destination);
                break;
            case GgmlType.Q8_0: ActivationQuants.QuantizeQ8_0(x, destination); break;
            case GgmlType.Q8_1: ActivationQuants.QuantizeQ8_1(x, destination); break;
            case GgmlType.Q8_K: ActivationQuants.QuantizeQ8_K(x, destination); break;
            default: GgmlQuants.QuantizeRow(dotType, x, destination); break;
        }
    }
}
