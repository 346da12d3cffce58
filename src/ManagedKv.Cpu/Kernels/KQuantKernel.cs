using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// A K-quant weight type's kernel (Q2_K … Q6_K): <see cref="KQuantTiles"/> specialised for the super-block
/// format <typeparamref name="TB"/>, against Q8_K activations (ggml_vec_dot_qN_K_q8_K).
/// </summary>
/// <typeparam name="TB">The super-block format; a struct so the JIT specialises and inlines it.</typeparam>
internal sealed class KQuantKernel<TB> : MatMulKernel where TB : struct, IKBlock
{
    /// <inheritdoc/>
    public override GgmlType WeightType => TB.Type;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_K;

    /// <inheritdoc/>
    /// <remarks>
    /// 0 when the bias is corrected per sub-block from the block sums (<see cref="IKBlock.SubBlockBias"/>, Q6_K),
    /// so the activations need no pair sums.
    /// </remarks>
    public override int Bias => TB.SubBlockBias ? 0 : TB.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<TB>(args, o0, o1, t0, t1);
}
