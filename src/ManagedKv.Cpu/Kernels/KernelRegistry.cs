using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>The kernel for each supported weight type: SIMD kernels on AVX2+FMA machines, else the portable ones.</summary>
internal static class KernelRegistry
{
    /// <summary>True when <paramref name="type"/> has a matrix-multiplication kernel.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q2_K or GgmlType.Q3_K
        or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>The kernel for <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">The type has no kernel.</exception>
    public static MatMulKernel For(GgmlType type, bool portable = false)
    {
        if (!Supports(type)) throw new NotSupportedException($"the CPU backend has no matrix multiplication for ggml type {type} ({(uint)type})");
        if (portable || !Simd.Supported) return new PortableKernel(type);
        return type switch
        {
            GgmlType.F32 => new FloatKernel<F32Row>(),
            GgmlType.F16 => new FloatKernel<F16Row>(),
            GgmlType.BF16 => new FloatKernel<BF16Row>(),
            GgmlType.Q8_0 => new LegacyKernel<Q8_0Block>(),
            GgmlType.Q4_0 => new LegacyKernel<Q4_0Block>(),
            GgmlType.Q4_1 => new LegacyKernel<Q4_1Block>(),
            GgmlType.Q5_0 => new LegacyKernel<Q5_0Block>(),
            GgmlType.Q5_1 => new LegacyKernel<Q5_1Block>(),
            GgmlType.Q2_K => new KQuantKernel<Q2KBlock>(),
            GgmlType.Q3_K => new KQuantKernel<Q3KBlock>(),
            GgmlType.Q4_K => new KQuantKernel<Q4KBlock>(),
            GgmlType.Q5_K => new KQuantKernel<Q5KBlock>(),
            _ => new KQuantKernel<Q6KBlock>(),
        };
    }
}
