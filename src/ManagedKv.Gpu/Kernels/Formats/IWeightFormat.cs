using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>
/// A ggml weight type decoded inside kernels. A row is split into units: 32 values for the quantised types (a
/// legacy block, or a 32-value slice of a 256-value K-quant super-block), one value for F32/F16/BF16. Each lane
/// of a warp decodes whole units in registers straight from the stored bytes, so no dequantised copy of a weight
/// ever exists in device memory. Implementations are empty structs (ILGPU specialises the generic kernels).
/// </summary>
internal interface IWeightFormat
{
    /// <summary>Values per unit (32, or 1 for float formats).</summary>
    int UnitValues { get; }

    /// <summary>Decodes unit <paramref name="unit"/> of the row starting at byte <paramref name="row"/> into <paramref name="sink"/>.</summary>
    void Decode<TSink>(ArrayView<byte> w, long row, int unit, ref TSink sink) where TSink : struct, IValueSink;
}
