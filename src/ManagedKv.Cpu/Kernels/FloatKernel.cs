using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// An unquantised weight type's kernel (F32, F16, BF16): <see cref="FloatTiles"/> specialised for the row
/// format <typeparamref name="TR"/>, against activations in the same precision (ggml_vec_dot_f16 and kin).
/// </summary>
/// <typeparam name="TR">The row format; a struct so the JIT specialises and inlines it.</typeparam>
internal sealed class FloatKernel<TR> : MatMulKernel where TR : struct, IFloatRow
{
    /// <inheritdoc/>
    public override GgmlType WeightType => TR.Type;

    /// <inheritdoc/>
    public override ActivationKind Activation => TR.Activation;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        FloatTiles.Compute<TR>(args, o0, o1, t0, t1);
}
