using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q2_K: 256-value super-blocks of sixteen 16-value sub-blocks, 2-bit codes, 4-bit scales and mins (x = d·sc·q − dmin·m). The super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q2KBlock : IKBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q2_K;

    /// <inheritdoc/>
    public static int BlockBytes => Q2K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 0;

    /// <inheritdoc/>
    public static KFloat Float => KFloat.Total;

    /// <inheritdoc/>
    public static bool SubBlockBias => false;

    /// <inheritdoc/>
    public static KMins Mins => KMins.Sixteen;

    /// <inheritdoc/>
    public static bool SixteenScales => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q2K.OffsetD);
        row->DMin = Simd.Half(block + Q2K.OffsetDmin);
        Vector128<byte> sc = Sse2.LoadVector128(block + Q2K.OffsetScales);
        row->Scales = Avx2.ConvertToVector256Int16(Sse2.And(sc, Vector128.Create((byte)0x0F)));
        row->Mins = Avx2.ConvertToVector256Int16(Sse2.And(Sse2.ShiftRightLogical(sc.AsUInt16(), 4).AsByte(), Vector128.Create((byte)0x0F)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        return KQuantTiles.TwoBits(block + Q2K.OffsetQs + 32 * (chunk >> 2), chunk & 3);
    }

    /// <inheritdoc/>
    public static bool Interleaved => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
    {
        Vector512<ushort> qs = KQuantTiles.Twice(block + Q2K.OffsetQs + 32 * half);
        a = KQuantTiles.Fields(qs, 0, 2, 0x03);
        b = KQuantTiles.Fields(qs, 4, 6, 0x03);
    }
}
