using ILGPU;
using ILGPU.Runtime;
using ManagedKv.Gguf;
using ManagedKv.Model.Inference;

namespace ManagedKv.Gpu.Device;

/// <summary>
/// A weight uploaded once in its stored bytes (quantised blocks stay quantised; kernels decode them in registers).
/// F32 norm and bias vectors are also kept as f32 for the element-wise kernels.
/// </summary>
public sealed class GpuWeight : DeviceWeight, IDisposable
{
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _bytes;            // [OutFeatures, RowBytes]
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _floats;         // [ElementCount] F32 weights only

    internal GpuWeight(Accelerator accelerator, TensorView view) : base(view)
    {
        var bytes = view.Bytes;
        _bytes = accelerator.Allocate1D<byte>(Math.Max(1, bytes.Length));
        Bytes.SubView(0, bytes.Length).CopyFromCPU(bytes);
        if (view.Type == GgmlType.F32)
        {
            _floats = accelerator.Allocate1D<float>(Math.Max(1, bytes.Length / 4));
            ((ArrayView<float>)_floats.View).SubView(0, bytes.Length / 4).CopyFromCPU(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes));
        }
        RowBytes = view.RowBytes;
    }

    /// <summary>The stored bytes.</summary>
    public ArrayView<byte> Bytes => _bytes.View;

    /// <summary>Bytes per row.</summary>
    public long RowBytes { get; }

    /// <summary>The values as f32 (F32 weights only: norms and biases).</summary>
    /// <exception cref="NotSupportedException">The weight is not F32.</exception>
    public ArrayView<float> Floats => _floats?.View ?? throw new NotSupportedException($"{View.Name}: norm and bias weights must be F32, found {Type}");

    /// <summary>Bytes this weight occupies in device memory.</summary>
    public long DeviceBytes => _bytes.LengthInBytes + (_floats?.LengthInBytes ?? 0);

    /// <summary>Frees the device memory.</summary>
    public void Dispose()
    {
        _bytes.Dispose();
        _floats?.Dispose();
    }
}
