using ILGPU;
using ManagedKv.Gpu.Kernels.Formats;

namespace ManagedKv.Gpu.Kernels;

/// <summary>
/// Quantised matrix-vector / matrix-matrix products, in two shapes. <see cref="MatMul{TFormat}"/> (decode, small
/// batches): one warp per (output feature, tile of <see cref="DotSink.Tile"/> activation rows); the lanes stride over
/// the weight row's units, decode them in registers and accumulate against each row of the tile; a shuffle
/// reduction finishes the sums. Adjacent lanes read adjacent units, so weight loads coalesce; a weight is read once
/// per tile rather than once per row. Grid: x = ⌈OutFeatures / warps per group⌉, y = ⌈Rows / Tile⌉; group: warps
/// per group × warp size. <see cref="MatMulTiled{TFormat}"/> (prefill): shared-memory tiles, described there.
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

    /// <summary>Values of K per step of the tiled product: one 32-value unit (or 32 one-value units of a float format).</summary>
    public const int TileK = 32;

    /// <summary>Outputs (and activation rows) per group at most: 4 per thread along each side of a 16 × 16 group.</summary>
    public const int MaxTile = 64;

    private const int TileStride = MaxTile + 1; // shared row stride: the activation stores hit distinct banks

    /// <summary>
    /// The matrix product for many activation rows (prefill): a group of side × side threads computes a tile of
    /// 4·side outputs × 4·side rows. Per step of <see cref="TileK"/> values the group decodes the weight tile once
    /// into shared memory and loads the activation tile once, then each thread accumulates a 4 × 4 block in
    /// registers (outputs tx + side·i, rows ty + side·j: neighbouring threads read neighbouring banks and write
    /// neighbouring outputs). Each weight is decoded once per 4·side rows instead of once per
    /// <see cref="DotSink.Tile"/>. Sums run over k in order; the Q4_1/Q5_1 offset term is added per block, as in
    /// <see cref="DotSink"/>. Needs K % <see cref="TileK"/> = 0. Grid: x = ⌈OutFeatures / tile⌉, y = ⌈Rows / tile⌉;
    /// group: side² threads (<see cref="MatMulArgs.TileSide"/>).
    /// </summary>
    public static void MatMulTiled<TFormat>(MatMulArgs a) where TFormat : struct, IWeightFormat
    {
        var ws = SharedMemory.Allocate<float>(TileK * TileStride); // [TileK, tile] decoded weights, k-major
        var xs = SharedMemory.Allocate<float>(TileK * TileStride); // [TileK, tile] activations, k-major
        var offsets = SharedMemory.Allocate<float>(MaxTile);        // [tile] each weight row's unit offset
        var sums = SharedMemory.Allocate<float>(MaxTile);           // [tile] each activation row's block sum d·Σq
        int side = a.TileSide, tile = 4 * side, threads = side * side;
        int t = Group.IdxX, tx = t % side, ty = t / side;
        int o0 = Grid.IdxX * tile, r0 = Grid.IdxY * tile;
        var format = default(TFormat);
        int unitValues = format.UnitValues, unitsPerStep = TileK / unitValues, steps = a.Units / unitsPerStep;
        bool withOffsets = a.XsStride != 0;
        var acc = new Accumulator4x4();
        for (int s = 0; s < steps; s++)
        {
            for (int task = t; task < tile * unitsPerStep; task += threads)
            {
                int column = task / unitsPerStep, unit = task % unitsPerStep, o = o0 + column;
                if (unit == 0) offsets[column] = 0; // formats without an offset never set it
                var sink = new SharedTileSink(ws, offsets, column, unit * unitValues, TileStride);
                if (o < a.OutFeatures) format.Decode(a.W, o * a.RowBytes, s * unitsPerStep + unit, ref sink);
                else
                    for (int i = 0; i < unitValues; i++) sink.Put(i, 0);
            }
            for (int e = t; e < tile * TileK; e += threads)
            {
                int row = e / TileK, k = e % TileK, r = r0 + row;
                xs[k * TileStride + row] = r < a.Rows ? a.X[r * a.XStride + (long)s * TileK + k] : 0;
            }
            if (withOffsets)
                for (int row = t; row < tile; row += threads)
                    sums[row] = r0 + row < a.Rows ? a.Xs[(r0 + row) * a.XsStride + s] : 0;
            Group.Barrier();
            for (int k = 0; k < TileK; k++)
            {
                int wk = k * TileStride + tx, xk = k * TileStride + ty;
                acc.Add(ws[wk], ws[wk + side], ws[wk + 2 * side], ws[wk + 3 * side],
                        xs[xk], xs[xk + side], xs[xk + 2 * side], xs[xk + 3 * side]);
            }
            if (withOffsets)
                acc.Add(offsets[tx], offsets[tx + side], offsets[tx + 2 * side], offsets[tx + 3 * side],
                        sums[ty], sums[ty + side], sums[ty + 2 * side], sums[ty + 3 * side]);
            Group.Barrier();
        }
        for (int j = 0; j < 4; j++)
        {
            int r = r0 + ty + j * side;
            if (r >= a.Rows) break;
            for (int i = 0; i < 4; i++)
            {
                int o = o0 + tx + i * side;
                if (o < a.OutFeatures) a.Y[r * a.YStride + o] = acc.Get(i, j);
            }
        }
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
