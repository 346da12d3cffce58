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
    /// <remarks>0: Q6_K's bias is corrected per sub-block from the block sums (<see cref="Block.SubBlockBias"/>), so the activations need no pair sums.</remarks>
    public override int Bias => 0;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<Block>(args, o0, o1, t0, t1);

    /// <summary>The Q6_K super-block as <see cref="KQuantTiles"/> reads it.</summary>
    internal unsafe struct Block : IKBlock
    {
        /// <inheritdoc/>
        public static int BlockBytes => Q6K.BlockBytes;

        /// <inheritdoc/>
        public static int Bias => 32;

        /// <inheritdoc/>
        public static KFloat Float => KFloat.Lanes;

        /// <inheritdoc/>
        public static bool SubBlockBias => true;

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
        public static bool Interleaved => false;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
        {
            // ql[64h .. 64h+63]: low nibbles = chunks 4h, 4h+1 (values 128h .. +63), high nibbles = chunks 4h+2, 4h+3;
            // qh[32h .. 32h+31]: 2-bit fields 0, 1 for the first pair, 2, 3 for the second
            Vector512<byte> ql = Avx512BW.LoadVector512(block + Q6K.OffsetQl + 64 * half);
            Vector512<ushort> qh = KQuantTiles.Twice(block + Q6K.OffsetQh + 32 * half);
            a = Avx512F.Or(Avx512F.And(ql, Vector512.Create((byte)0x0F)), KQuantTiles.Up(KQuantTiles.Fields(qh, 0, 2, 0x03), 4));
            b = Avx512F.Or(Avx512F.And(Avx512BW.ShiftRightLogical(ql.AsUInt16(), 4).AsByte(), Vector512.Create((byte)0x0F)),
                KQuantTiles.Up(KQuantTiles.Fields(qh, 4, 6, 0x03), 4));
        }
    }
}
