using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Activations;

/// <summary>Maps weight types to the activation form their dot products use.</summary>
internal static class ActivationKinds
{
    /// <summary>ggml's vec_dot_type of <paramref name="weightType"/> as an <see cref="ActivationKind"/>.</summary>
    public static ActivationKind For(GgmlType weightType) => QuantDot.VecDotType(weightType) switch
    {
        GgmlType.F32 => ActivationKind.F32,
        GgmlType.F16 => ActivationKind.F16,
        GgmlType.BF16 => ActivationKind.BF16,
        GgmlType.Q8_0 => ActivationKind.Q8_0,
        GgmlType.Q8_1 => ActivationKind.Q8_1,
        _ => ActivationKind.Q8_K,
    };
}
