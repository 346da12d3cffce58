using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>Arguments of the matrix-product kernel: y[r, o] = Σ_k W[o, k]·X[r, k] for r &lt; Rows, o &lt; OutFeatures.</summary>
internal struct MatMulArgs
{
    public ArrayView<byte> W;    // [OutFeatures, RowBytes] the weight as stored in the file
    public long RowBytes;        // bytes of one weight row
    public int Units;            // units per weight row (K / unit values)
    public int OutFeatures;      // weight rows
    public ArrayView<float> X;   // [Rows, XStride] activations already in the weight's dot-product type
    public long XStride;
    public ArrayView<float> Xs;  // [Rows, XsStride] per-32-block f16(d·Σq) of Q8_1 activations (otherwise unused)
    public long XsStride;
    public int Rows;             // activation rows
    public ArrayView<float> Y;   // [Rows, YStride] output
    public long YStride;
    public int TileSide;         // MatMulTiled only: threads per side of a group (tile = 4·TileSide)
}
