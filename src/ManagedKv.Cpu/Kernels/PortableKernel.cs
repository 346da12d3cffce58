using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>
/// The fallback for machines without AVX2/FMA: ggml block bytes on both sides and <see cref="QuantDot.Dot"/>
/// (the scalar oracle) per output element. Deterministic, slow.
/// </summary>
internal sealed unsafe class PortableKernel(GgmlType type) : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => type;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKinds.For(type);

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1)
    {
        var act = args.Act;
        for (int t = t0; t < t1; t++)
        {
            var x = new ReadOnlySpan<byte>(act.Raw + (long)t * act.RawStride, act.RawStride);
            float* y = args.Y + (long)t * args.YStride;
            for (int o = o0; o < o1; o++)
                y[o] = QuantDot.Dot(type, new ReadOnlySpan<byte>(args.Weights + o * args.RowBytes, checked((int)args.RowBytes)), x);
        }
    }
}
