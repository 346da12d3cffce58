using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// A 32-value block type's kernel (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1): <see cref="LegacyTiles"/> specialised for
/// <typeparamref name="TB"/>, against Q8_1 activations for the offset formats (ggml_vec_dot_q4_1_q8_1) and Q8_0
/// ones otherwise (ggml_vec_dot_q4_0_q8_0).
/// </summary>
/// <typeparam name="TB">The block format; a struct so the JIT specialises and inlines it.</typeparam>
internal sealed class LegacyKernel<TB> : MatMulKernel where TB : struct, ILegacyBlock
{
    /// <inheritdoc/>
    public override GgmlType WeightType => TB.Type;

    /// <inheritdoc/>
    public override ActivationKind Activation => TB.HasMin ? ActivationKind.Q8_1 : ActivationKind.Q8_0;

    /// <inheritdoc/>
    public override int Bias => TB.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        LegacyTiles.Compute<TB>(args, o0, o1, t0, t1);
}
