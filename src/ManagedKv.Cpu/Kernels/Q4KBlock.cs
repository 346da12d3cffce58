using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q4_K: 256-value super-blocks of eight 32-value sub-blocks, 4-bit codes, 6-bit scales and mins (x = d·sc·q − dmin·m). The super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q4KBlock : IKBlock
{
    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q4_K;

    /// <inheritdoc/>
    public static int BlockBytes => Q4K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 0;

    /// <inheritdoc/>
    public static KFloat Float => KFloat.Spans64;

    /// <inheritdoc/>
    public static bool SubBlockBias => false;

    /// <inheritdoc/>
    public static KMins Mins => KMins.Eight;

    /// <inheritdoc/>
    public static bool SixteenScales => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q4K.OffsetD);
        row->DMin = Simd.Half(block + Q4K.OffsetDmin);
        row->Scales = KQuantTiles.ScalesAndMins(block);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        return KQuantTiles.Nibbles(block + Q4K.OffsetQs + 32 * (chunk >> 1), (chunk & 1) != 0);
    }

    /// <inheritdoc/>
    public static bool Interleaved => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
    {
        // qs[64h .. 64h+63]: low nibbles = chunks 4h, 4h+2; high nibbles = chunks 4h+1, 4h+3
        Vector512<byte> w = Avx512BW.LoadVector512(block + Q4K.OffsetQs + 64 * half);
        a = Avx512F.And(w, Vector512.Create((byte)0x0F));
        b = Avx512F.And(Avx512BW.ShiftRightLogical(w.AsUInt16(), 4).AsByte(), Vector512.Create((byte)0x0F));
    }
}
