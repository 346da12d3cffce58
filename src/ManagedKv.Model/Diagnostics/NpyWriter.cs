using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ManagedKv.Model.Diagnostics;

/// <summary>
/// Writes NumPy <c>.npy</c> files (format version 1.0: magic, header dict padded to a multiple of 64 bytes,
/// little-endian C-order data), so anyone can load what the engine saw with <c>numpy.load</c>.
/// </summary>
public static class NpyWriter
{
    /// <summary>Writes a float32 array of the given shape.</summary>
    public static void Write(string path, ReadOnlySpan<float> data, params int[] shape) => Write(path, "<f4", MemoryMarshal.AsBytes(data), shape);

    /// <summary>Writes an int32 array of the given shape.</summary>
    public static void Write(string path, ReadOnlySpan<int> data, params int[] shape) => Write(path, "<i4", MemoryMarshal.AsBytes(data), shape);

    private static void Write(string path, string descr, ReadOnlySpan<byte> bytes, int[] shape)
    {
        long elements = shape.Aggregate(1L, (a, d) => a * d);
        int size = descr[^1] - '0';
        if (elements * size != bytes.Length) throw new ArgumentException($"shape ({string.Join(", ", shape)}) needs {elements * size} bytes, got {bytes.Length}");
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int preamble = 10; // magic (6) + version (2) + header length (2)
        int total = (preamble + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(total - preamble - 1) + "\n";

        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(bytes);
    }
}
