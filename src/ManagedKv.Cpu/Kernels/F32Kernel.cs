using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Kernels;

/// <summary>F32: f32 weights, f32 activations.</summary>
internal sealed class F32Kernel : MatMulKernel
{
    /// <inheritdoc/>
    public override GgmlType WeightType => GgmlType.F32;

    /// <inheritdoc/>
    public override ActivationKind Activation => ActivationKind.F32;

    /// <inheritdoc/>
    public override void Compute(in MatMulArgs args, int o0, int o1, int t0, int t1) =>
        FloatTiles.Compute<Row>(args, o0, o1, t0, t1);

    /// <summary>The F32 row as <see cref="FloatTiles"/> reads it.</summary>
    internal unsafe struct Row : IFloatRow
    {
        /// <inheritdoc/>
        public static bool Paired => false;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load16(byte* row, int i) => Avx512F.LoadVector512((float*)row + i);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int i) => Avx.LoadVector256((float*)row + i);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(byte* row, int i) => ((float*)row)[i];
    }
}
