using ILGPU;

namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>
/// Accumulates one lane's share of up to <see cref="Tile"/> dot products (one weight row against a tile of
/// activation rows), so each weight value is decoded once and used for every row of the tile.
/// </summary>
internal struct DotSink : IValueSink
{
    /// <summary>Activation rows per tile.</summary>
    public const int Tile = 4;

    private readonly MatMulArgs _a;
    private readonly int _rows;   // rows of this tile (1..Tile)
    private long _x;              // index in X of the current unit's first value, tile row 0
    private long _xs;             // index in Xs of the current unit's block, tile row 0
    public float A0, A1, A2, A3;  // [Tile] partial sums

    /// <summary>A sink for the tile starting at activation row <paramref name="firstRow"/>.</summary>
    public DotSink(MatMulArgs a, int firstRow)
    {
        _a = a;
        _rows = a.Rows - firstRow < Tile ? a.Rows - firstRow : Tile;
        _x = firstRow * a.XStride;
        _xs = firstRow * a.XsStride;
        A0 = A1 = A2 = A3 = 0;
        _base = _x;
        _xsBase = _xs;
    }

    private readonly long _base, _xsBase;

    /// <summary>Points the sink at unit <paramref name="unit"/> of <paramref name="unitValues"/> values.</summary>
    public void Start(int unit, int unitValues)
    {
        _x = _base + (long)unit * unitValues;
        _xs = _xsBase + unit;
    }

    /// <inheritdoc/>
    public void Put(int i, float value)
    {
        long x = _x + i;
        A0 += value * _a.X[x];
        if (_rows > 1) A1 += value * _a.X[x + _a.XStride];
        if (_rows > 2) A2 += value * _a.X[x + 2 * _a.XStride];
        if (_rows > 3) A3 += value * _a.X[x + 3 * _a.XStride];
    }

    /// <inheritdoc/>
    public void Offset(float offset)
    {
        // m·s: the activation block's f16(d·Σq), exactly the term ggml's Q4_1/Q5_1 dot products add.
        A0 += offset * _a.Xs[_xs];
        if (_rows > 1) A1 += offset * _a.Xs[_xs + _a.XsStride];
        if (_rows > 2) A2 += offset * _a.Xs[_xs + 2 * _a.XsStride];
        if (_rows > 3) A3 += offset * _a.Xs[_xs + 3 * _a.XsStride];
    }

    /// <summary>Sums the partial sums over the warp (lane 0 ends with the totals).</summary>
    public void Reduce()
    {
        A0 = WarpOps.Sum(A0);
        A1 = WarpOps.Sum(A1);
        A2 = WarpOps.Sum(A2);
        A3 = WarpOps.Sum(A3);
    }

    /// <summary>Writes the tile's outputs for output feature <paramref name="o"/>.</summary>
    public readonly void Store(int firstRow, int o)
    {
        long y = firstRow * _a.YStride + o;
        _a.Y[y] = A0;
        if (_rows > 1) _a.Y[y + _a.YStride] = A1;
        if (_rows > 2) _a.Y[y + 2 * _a.YStride] = A2;
        if (_rows > 3) _a.Y[y + 3 * _a.YStride] = A3;
    }
}
