using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>
/// Writes one decoded unit into column <c>column</c> of a k-major shared-memory weight tile
/// ([<see cref="MatMulKernels.TileK"/>, stride]), starting at tile row <c>firstK</c>; the unit's offset (Q4_1/Q5_1's
/// m) goes to <c>offsets[column]</c>.
/// </summary>
internal readonly struct SharedTileSink(ArrayView<float> tile, ArrayView<float> offsets, int column, int firstK, int stride) : IValueSink
{
    /// <inheritdoc/>
    public void Put(int i, float value) => tile[(firstK + i) * stride + column] = value;

    /// <inheritdoc/>
    public void Offset(float offset) => offsets[column] = offset;
}
