using System.Runtime.Intrinsics;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>An unquantised weight row format (F32, F16, BF16) as <see cref="FloatTiles"/> reads it, widened to f32.</summary>
internal unsafe interface IFloatRow
{
    /// <summary>The stored weight type (the kernel's <see cref="MatMulKernel.WeightType"/>).</summary>
    static abstract GgmlType Type { get; }

    /// <summary>The form activations are converted to (the kernel's <see cref="MatMulKernel.Activation"/>).</summary>
    static abstract ActivationKind Activation { get; }

    /// <summary>
    /// True for BF16: products are taken in pairs (2l+1 then 2l into lane l, as <c>vdpbf16ps</c> does) over
    /// 32-value steps, and the activation row is stored split per step (16 even values, then 16 odd ones).
    /// </summary>
    static abstract bool Paired { get; }

    /// <summary>Values i .. i+15 of the row (AVX-512; F32/F16).</summary>
    static abstract Vector512<float> Load16(byte* row, int i);

    /// <summary>Values i .. i+7 of the row (F32/F16).</summary>
    static abstract Vector256<float> Load8(byte* row, int i);

    /// <summary>Value i of the row.</summary>
    static abstract float Load1(byte* row, int i);
}
