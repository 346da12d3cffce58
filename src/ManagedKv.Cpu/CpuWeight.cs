using ManagedKv.Cpu.Kernels;
using ManagedKv.Gguf;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu;

/// <summary>A weight for the CPU backend: the memory-mapped view plus its matrix kernel (null for types without one).</summary>
internal sealed class CpuWeight(TensorView view, MatMulKernel? kernel) : DeviceWeight(view)
{
    /// <summary>The kernel for <see cref="DeviceWeight.Type"/>, or null when the type cannot be multiplied.</summary>
    public MatMulKernel? Kernel { get; } = kernel;
}
