namespace ManagedKv.Gpu.Kernels.Formats;

/// <summary>A thread's 4 outputs × 4 rows of partial sums in registers (the tiled product's micro-tile).</summary>
internal struct Accumulator4x4
{
    private float _c00, _c01, _c02, _c03, _c10, _c11, _c12, _c13, _c20, _c21, _c22, _c23, _c30, _c31, _c32, _c33; // [output i, row j]

    /// <summary>c[i, j] += w_i · x_j.</summary>
    public void Add(float w0, float w1, float w2, float w3, float x0, float x1, float x2, float x3)
    {
        _c00 += w0 * x0; _c01 += w0 * x1; _c02 += w0 * x2; _c03 += w0 * x3;
        _c10 += w1 * x0; _c11 += w1 * x1; _c12 += w1 * x2; _c13 += w1 * x3;
        _c20 += w2 * x0; _c21 += w2 * x1; _c22 += w2 * x2; _c23 += w2 * x3;
        _c30 += w3 * x0; _c31 += w3 * x1; _c32 += w3 * x2; _c33 += w3 * x3;
    }

    /// <summary>c[i, j].</summary>
    public readonly float Get(int i, int j) => (i * 4 + j) switch
    {
        0 => _c00, 1 => _c01, 2 => _c02, 3 => _c03,
        4 => _c10, 5 => _c11, 6 => _c12, 7 => _c13,
        8 => _c20, 9 => _c21, 10 => _c22, 11 => _c23,
        12 => _c30, 13 => _c31, 14 => _c32, _ => _c33,
    };
}
