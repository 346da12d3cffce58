using ILGPU;

namespace ManagedKv.Gpu.Kernels;

/// <summary>The compiled products of one weight type (see <see cref="MatMulKernels"/>).</summary>
/// <param name="Warp">One warp per output feature and tile of 4 rows: decode and small batches.</param>
/// <param name="Tiled">Shared-memory tiles of 4·side outputs × 4·side rows: prefill.</param>
/// <param name="UnitValues">Values per unit of the format.</param>
internal readonly record struct MatMulKernelPair(Action<KernelConfig, MatMulArgs> Warp, Action<KernelConfig, MatMulArgs> Tiled, int UnitValues);
