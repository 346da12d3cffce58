using ILGPU;
using ManagedKv.Gpu.Kernels.Formats;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Quantised matrix-vector / matrix-matrix products. One warp per (output feature, tile of
/// <see cref="DotSink.Tile"/> activation rows): the lanes stride over the weight row's units, decode them in
/// registers and accumulate against each row of the tile; a shuffle reduction finishes the sums. Adjacent lanes
/// read adjacent units, so weight loads coalesce; a weight is read once per tile rather than once per row.
/// Grid: x = ⌈OutFeatures / warps per group⌉, y = ⌈Rows / Tile⌉; group: warps per group × warp size.
/// </summary>
internal static class MatMulKernels
{
    /// <summary>The product for one weight format.</summary>
    public static void MatMul<TFormat>(MatMulArgs a) where TFormat : struct, IWeightFormat
    {
        int warps = Group.DimX / Warp.WarpSize;
        int o = Grid.IdxX * warps + Warp.WarpIdx;
        if (o >= a.OutFeatures) return; // uniform across the warp
        int firstRow = Grid.IdxY * DotSink.Tile;
        var format = default(TFormat);
        int unitValues = format.UnitValues;
        var sink = new DotSink(a, firstRow);
        long row = o * a.RowBytes;
        for (int u = Warp.LaneIdx; u < a.Units; u += Warp.WarpSize)
        {
            sink.Start(u, unitValues);
            format.Decode(a.W, row, u, ref sink);
        }
        sink.Reduce();
        if (Warp.LaneIdx == 0) sink.Store(firstRow, o);
    }

    /// <summary>
    /// Embedding lookup: thread i decodes unit i % units of table row tokens[i / units] into row i / units of y.
    /// </summary>
    public static void Embed<TFormat>(Index1D i, ArrayView<byte> table, long rowBytes, int units, ArrayView<int> tokens,
        ArrayView<float> y, long yStride) where TFormat : struct, IWeightFormat
    {
        var format = default(TFormat);
        int r = i / units, u = i % units;
        var sink = new StoreSink(y, r * yStride + (long)u * format.UnitValues);
        format.Decode(table, tokens[r] * rowBytes, u, ref sink);
    }
}
