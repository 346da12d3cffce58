using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q5_K: as Q4_K with a fifth code bit per value in a 32-byte plane.</summary>
internal sealed class Q5KKernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q5_K;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_K;

    /// <inheritdoc/>
    public override int Bias => Block.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        KQuantTiles.Compute<Block>(args, o0, o1, t0, t1);

    /// <summary>The Q5_K super-block as <see cref="KQuantTiles"/> reads it.</summary>
    internal unsafe struct Block : IKBlock
    {
        /// <inheritdoc/>
        public static int BlockBytes => Q5K.BlockBytes;

        /// <inheritdoc/>
        public static int Bias => 0;

        /// <inheritdoc/>
        public static KFloat Float => KFloat.Lanes;

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
            row->D = Simd.Half(block + Q5K.OffsetD);
            row->DMin = Simd.Half(block + Q5K.OffsetDmin);
            row->Scales = KQuantTiles.ScalesAndMins(block);
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block, int chunk)
        {
            return Avx2.Or(KQuantTiles.Nibbles(block + Q5K.OffsetQs + 32 * (chunk >> 1), (chunk & 1) != 0), KQuantTiles.Bit(block + Q5K.OffsetQh, chunk, 4));
        }

        /// <inheritdoc/>
        public static bool Interleaved => true;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Codes128(byte* block, int half, out Vector512<byte> a, out Vector512<byte> b)
        {
            Vector512<byte> w = Avx512BW.LoadVector512(block + Q5K.OffsetQs + 64 * half);
            Vector512<ushort> qh = KQuantTiles.Twice(block + Q5K.OffsetQh);
            a = Avx512F.Or(Avx512F.And(w, Vector512.Create((byte)0x0F)), KQuantTiles.Up(KQuantTiles.Fields(qh, 4 * half, 4 * half + 2, 0x01), 4));
            b = Avx512F.Or(Avx512F.And(Avx512BW.ShiftRightLogical(w.AsUInt16(), 4).AsByte(), Vector512.Create((byte)0x0F)),
                KQuantTiles.Up(KQuantTiles.Fields(qh, 4 * half + 1, 4 * half + 3, 0x01), 4));
        }
    }
}
