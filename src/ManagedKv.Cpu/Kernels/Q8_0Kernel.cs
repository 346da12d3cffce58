using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>Q8_0: 32 int8 codes, x = d·q. Stored codes are shifted by 128 to be unsigned. Paired with Q8_0 activations (ggml_vec_dot_q8_0_q8_0).</summary>
internal sealed class Q8_0Kernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.Q8_0;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.Q8_0;

    /// <inheritdoc/>
    public override int Bias => Block.Bias;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        LegacyTiles.Compute<Block>(args, o0, o1, t0, t1);

    /// <summary>The Q8_0 block as <see cref="LegacyTiles"/> reads it.</summary>
    internal unsafe struct Block : ILegacyBlock
    {
        /// <inheritdoc/>
        public static int BlockBytes => Q8_0.BlockBytes;

        /// <inheritdoc/>
        public static int Bias => 128;

        /// <inheritdoc/>
        public static bool HasMin => false;

        /// <inheritdoc/>
        public static bool Wide => true;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Avx.LoadVector256(block + Q8_0.OffsetQs) ^ Vector256.Create((byte)0x80);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => Simd.Half(block);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Min(byte* block) => 0f;
    }
}
