using ManagedKv.Gguf;
using ManagedKv.Gpu.Kernels.Formats;

namespace ManagedKv.Gpu.Kernels;

/// <summary>Something done with a weight format type, picked at run time from a ggml type (<see cref="FormatSwitch"/>).</summary>
internal interface IFormatVisitor<out TResult>
{
    /// <summary>Does it with <typeparamref name="TFormat"/>.</summary>
    TResult Visit<TFormat>() where TFormat : struct, IWeightFormat;
}

/// <summary>The one switch from ggml types to kernel format structs.</summary>
internal static class FormatSwitch
{
    /// <summary>Whether the GPU kernels decode <paramref name="type"/>.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q2_K or GgmlType.Q3_K
        or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>Runs <paramref name="visitor"/> with the format struct of <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">No kernel decodes the type.</exception>
    public static TResult Visit<TVisitor, TResult>(GgmlType type, TVisitor visitor) where TVisitor : IFormatVisitor<TResult> => type switch
    {
        GgmlType.F32 => visitor.Visit<F32Format>(),
        GgmlType.F16 => visitor.Visit<F16Format>(),
        GgmlType.BF16 => visitor.Visit<BF16Format>(),
        GgmlType.Q8_0 => visitor.Visit<Q8_0Format>(),
        GgmlType.Q4_0 => visitor.Visit<Q4_0Format>(),
        GgmlType.Q4_1 => visitor.Visit<Q4_1Format>(),
        GgmlType.Q5_0 => visitor.Visit<Q5_0Format>(),
        GgmlType.Q5_1 => visitor.Visit<Q5_1Format>(),
        GgmlType.Q2_K => visitor.Visit<Q2KFormat>(),
        GgmlType.Q3_K => visitor.Visit<Q3KFormat>(),
        GgmlType.Q4_K => visitor.Visit<Q4KFormat>(),
        GgmlType.Q5_K => visitor.Visit<Q5KFormat>(),
        GgmlType.Q6_K => visitor.Visit<Q6KFormat>(),
        _ => throw new NotSupportedException($"the GPU backend has no kernel for ggml type {type}"),
    };
}
