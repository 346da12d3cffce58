using System.Runtime.CompilerServices;

namespace ManagedKv.Gguf;

/// <summary>The fifth-bit plane shared by Q5_0 and Q5_1: one little-endian uint32, bit j for value j.</summary>
internal static class Q5Bits
{
    /// <summary>Bit 4 (0x10) of value <paramref name="j"/>'s code, taken from the qh word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int High(uint qh, int j) => (int)((qh >> j) << 4) & 0x10;

    /// <summary>Bit 4 of a 5-bit code as 0 or 1, to be shifted into its qh position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Bit4(byte code) => (code & 0x10u) >> 4;
}
