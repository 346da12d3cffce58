using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Model.Inference;

namespace ManagedKv.Gpu.Device;

/// <summary>An activation matrix [Rows, Cols] in device memory.</summary>
public sealed class GpuTensor : DeviceTensor
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer; // [Rows, Cols]

    internal GpuTensor(Accelerator accelerator, int rows, int cols) : base(rows, cols) =>
        _buffer = accelerator.Allocate1D<float>(checked((long)rows * cols));

    /// <summary>The device values, [Rows, Cols] row-major.</summary>
    public ArrayView<float> View => _buffer.View;

    /// <summary>The first <paramref name="rows"/> rows.</summary>
    internal ArrayView<float> Rows0(int rows) => _buffer.View.SubView(0, (long)rows * Cols);

    /// <inheritdoc/>
    public override void Dispose()
    {
        _buffer.Dispose();
        base.Dispose();
    }
}
