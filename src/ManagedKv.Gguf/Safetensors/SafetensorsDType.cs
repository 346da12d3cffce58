namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// The safetensors dtype strings: their element sizes (needed to validate every tensor's byte range
/// when a file is opened) and, for the float types ManagedKv computes with, the matching
/// <see cref="GgmlType"/>. The other dtypes are recognised so that a file holding them still opens;
/// asking for a view of such a tensor is an "unsupported dtype" error.
/// </summary>
public static class SafetensorsDType
{
    /// <summary>Bytes per element of <paramref name="dtype"/>, or 0 for a dtype the format does not define.</summary>
    public static int ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" or "C64" => 8,
        _ => 0,
    };

    /// <summary>True for a dtype string the safetensors format defines.</summary>
    public static bool IsKnown(string dtype) => ElementSize(dtype) > 0;

    /// <summary>The ggml type ManagedKv reads <paramref name="dtype"/> as, or null when it cannot compute with it.</summary>
    public static GgmlType? ToGgml(string dtype) => dtype switch
    {
        "F32" => GgmlType.F32,
        "F16" => GgmlType.F16,
        "BF16" => GgmlType.BF16,
        _ => null,
    };

    /// <summary>The safetensors dtype string of a ggml type, or null when safetensors has no equivalent.</summary>
    public static string? FromGgml(GgmlType type) => type switch
    {
        GgmlType.F32 => "F32",
        GgmlType.F16 => "F16",
        GgmlType.BF16 => "BF16",
        _ => null,
    };
}
