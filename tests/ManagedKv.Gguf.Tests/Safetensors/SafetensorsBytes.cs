using System.Buffers.Binary;
using System.Text;

namespace ManagedKv.Gguf.Tests.Safetensors;

/// <summary>Hand-made safetensors images for hostile-input tests: a raw header string and raw data bytes.</summary>
internal static class SafetensorsBytes
{
    /// <summary>8-byte length + <paramref name="headerJson"/> + <paramref name="dataLength"/> bytes of data.</summary>
    public static byte[] Make(string headerJson, int dataLength, ulong? declaredLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 0; i < dataLength; i++) bytes[8 + header.Length + i] = (byte)i;
        return bytes;
    }

    /// <summary>One F32 tensor "a" of shape (2) at [0, 8) — a valid file.</summary>
    public const string OneTensor = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
}
