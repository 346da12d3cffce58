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
            GgmlType.F32 => new F32Kernel(),
            GgmlType.F16 => new F16Kernel(),
            GgmlType.BF16 => new BF16Kernel(),
            GgmlType.Q8_0 => new Q8_0Kernel(),
            GgmlType.Q4_0 => new Q4_0Kernel(),
            GgmlType.Q4_1 => new Q4_1Kernel(),
            GgmlType.Q5_0 => new Q5_0Kernel(),
            GgmlType.Q5_1 => new Q5_1Kernel(),
            GgmlType.Q2_K => new Q2KKernel(),
            GgmlType.Q3_K => new Q3KKernel(),
            GgmlType.Q4_K => new Q4KKernel(),
            GgmlType.Q5_K => new Q5KKernel(),
            _ => new Q6KKernel(),
        };
    }
}
