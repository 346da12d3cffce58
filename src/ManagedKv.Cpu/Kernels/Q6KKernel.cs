using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q6_K: 256-value super-blocks of sixteen 16-value sub-blocks, 6-bit codes (x = d·sc·(q − 32)), int8 scales.</summary>
internal sealed class Q6KKernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q6_K;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_K;

    /// <inheritdoc/>
    public override int Bias => Q6KBlock.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<Q6KBlock>(args, o0, o1, t0, t1);
}

/// <summary>The Q6_K super-block as <see cref="KQuantTiles"/> reads it.</summary>
internal unsafe struct Q6KBlock : IKBlock
{
    /// <inheritdoc/>
    public static int BlockBytes => Q6K.BlockBytes;

    /// <inheritdoc/>
    public static int Bias => 32;

    /// <inheritdoc/>
    public static KMins Mins => KMins.None;

    /// <inheritdoc/>
    public static bool SixteenScales => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prepare(byte* block, KRow* row)
    {
        row->D = Simd.Half(block + Q6K.OffsetD);
        row->DMin = 0;
        row->Scales = Avx2.ConvertToVector256Int16((sbyte*)(block + Q6K.OffsetScales));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* block, int chunk)
    {
        int h = chunk >> 2, k = chunk & 3;
        Vector256<byte> low = KQuantTiles.Nibbles(block + Q6K.OffsetQl + 64 * h + 32 * (k & 1), k >= 2);
        Vector256<byte> high = Avx2.ShiftLeftLogical(KQuantTiles.TwoBits(block + Q6K.OffsetQh + 32 * h, k).AsUInt16(), 4).AsByte();
        return Avx2.Or(low, high);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes64(byte* block, int pair)
    {
        // values 128h + 64q .. +63: the low (q = 0) or high (q = 1) nibbles of the 64 ql bytes of half h, and
        // 2-bit fields 2q·2, 2q·2+2 of the 32 qh bytes
        int h = pair >> 1, q = pair & 1;
#pragma warning disable CA1857 // variable shift count: the pair loop is not unrolled
        Vector512<byte> low = Avx512F.And(Avx512BW.ShiftRightLogical(Avx512BW.LoadVector512((ushort*)(block + Q6K.OffsetQl + 64 * h)), (byte)(4 * q)).AsByte(), Vector512.Create((byte)0x0F));
#pragma warning restore CA1857
        Vector512<byte> high = KQuantTiles.Up(KQuantTiles.Fields(KQuantTiles.Twice(block + Q6K.OffsetQh + 32 * h), 4 * q, 4 * q + 2, 0x03), 4);
        return Avx512F.Or(low, high);
    }
}
