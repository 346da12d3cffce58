using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q5_0: 32 5-bit codes (4 low bits packed, fifth bits in a uint32), x = d·(q − 16). Paired with Q8_0 activations (ggml_vec_dot_q5_0_q8_0).</summary>
internal sealed class Q5_0Kernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q5_0;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_0;

    /// <inheritdoc/>
    public override int Bias => Block.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        LegacyTiles.Compute<Block>(args, o0, o1, t0, t1);

    /// <summary>The Q5_0 block as <see cref="LegacyTiles"/> reads it.</summary>
    internal unsafe struct Block : ILegacyBlock
    {
        /// <inheritdoc/>
        public static int BlockBytes => Q5_0.BlockBytes;

        /// <inheritdoc/>
        public static int Bias => 16;

        /// <inheritdoc/>
        public static bool HasMin => false;

        /// <inheritdoc/>
        public static bool Wide => false;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Avx2.Or(LegacyTiles.Nibbles(block + Q5_0.OffsetQs), LegacyTiles.FifthBits(block + Q5_0.OffsetQh));

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => Simd.Half(block);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Min(byte* block) => 0f;
    }
}
