using ManagedKv.Gguf;
using ManagedKv.Model.Numerics;
using ManagedKv.Model.Reference;

namespace ManagedKv.Model.Tests.Numerics;

/// <summary>
/// <see cref="CpuMatMul"/> against ggml_mul_mat run by the golden build's ggml: every weight type, on the
/// vec_dot, tinyBLAS and CPU_REPACK gemv/gemm paths, bit for bit; and the kernel choice itself.
/// </summary>
[TestClass]
public sealed class CpuMatMulTests
{
    public static IEnumerable<object[]> Cases => GgmlReference.MatMul.Select((c, i) => new object[] { $"{c.Type} {c.Batch}", i });

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MatchesGgmlBitForBit(string name, int index)
    {
        var c = GgmlReference.MatMul[index];
        float[] actual = Compute(c, c.Batch == "vecdot" ? MatMulKernel.VecDot : null, generic: false);
        NumericsVectors.AssertBits(c.Expected, actual, name);
    }

    /// <summary>
    /// The same products in ggml's generic scalar order (<see cref="QuantDot"/>, f64 sums for float types)
    /// miss the golden bits for every type: the lane order is what the emulation adds.
    /// </summary>
    [TestMethod]
    public void GenericScalarOrderDiffersForEveryType()
    {
        foreach (var group in GgmlReference.MatMul.GroupBy(c => c.Type))
        {
            int different = group.Sum(c => NumericsVectors.CountDifferent(c.Expected, Compute(c, null, generic: true)));
            Assert.IsTrue(different > 0, $"{group.Key}: the generic order reproduces every golden value, so the test cannot tell the kernels apart");
        }
    }

    [TestMethod]
    public void SelectsLlamaCppsPath()
    {
        // F32/F16 need k % 16 and m % 4 for tinyBLAS, BF16 k % 32, and every path needs two or more rows
        Assert.AreEqual(MatMulKernel.TinyBlas, CpuMatMul.Select(GgmlType.F32, 256, 256, 2, 0));
        Assert.AreEqual(MatMulKernel.VecDot, CpuMatMul.Select(GgmlType.F32, 256, 256, 1, 0));
        Assert.AreEqual(MatMulKernel.VecDot, CpuMatMul.Select(GgmlType.F32, 172, 64, 13, 5));   // stories260K ffn_down
        Assert.AreEqual(MatMulKernel.VecDot, CpuMatMul.Select(GgmlType.F16, 256, 6, 13, 5));
        Assert.AreEqual(MatMulKernel.TinyBlas, CpuMatMul.Select(GgmlType.BF16, 256, 8, 3, 2));
        Assert.AreEqual(MatMulKernel.VecDot, CpuMatMul.Select(GgmlType.BF16, 272, 8, 3, 2));
        // tinyBLAS_Q0_AVX takes Q8_0, Q4_0 and Q5_0 of any shape; Q4_1/Q5_1 and the K-quants have only vec_dot
        Assert.AreEqual(MatMulKernel.TinyBlas, CpuMatMul.Select(GgmlType.Q8_0, 64, 6, 2, 1));
        Assert.AreEqual(MatMulKernel.TinyBlas, CpuMatMul.Select(GgmlType.Q4_0, 64, 12, 2, 1)); // 12 rows: not repacked
        Assert.AreEqual(MatMulKernel.VecDot, CpuMatMul.Select(GgmlType.Q4_1, 256, 256, 13, 0));
        Assert.AreEqual(MatMulKernel.VecDot, CpuMatMul.Select(GgmlType.Q6_K, 256, 512, 13, 0));
        // repacked types: gemm for rows in whole groups of four when there are more than three rows
        Assert.AreEqual(MatMulKernel.RepackGemm, CpuMatMul.Select(GgmlType.Q4_0, 256, 8, 13, 11));
        Assert.AreEqual(MatMulKernel.RepackGemv, CpuMatMul.Select(GgmlType.Q4_0, 256, 8, 13, 12));
        Assert.AreEqual(MatMulKernel.RepackGemv, CpuMatMul.Select(GgmlType.Q4_K, 256, 8, 3, 0));
        Assert.AreEqual(MatMulKernel.RepackGemm, CpuMatMul.Select(GgmlType.Q2_K, 256, 8, 4, 3));
        Assert.AreEqual(MatMulKernel.RepackGemv, CpuMatMul.Select(GgmlType.Q2_K, 256, 8, 1, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CpuMatMul.Select(GgmlType.F32, 256, 8, 2, 2));
    }

    [TestMethod]
    public void RejectsRowsThatDoNotPair()
    {
        var w = new byte[Gguf.Q8_0.BlockBytes * 2];
        var a = new byte[Gguf.Q8_0.BlockBytes];
        Assert.ThrowsExactly<ArgumentException>(() => CpuMatMul.Dot(MatMulKernel.VecDot, GgmlType.Q8_0, w, a));
        Assert.ThrowsExactly<ArgumentException>(() => CpuMatMul.Dot(MatMulKernel.TinyBlas, GgmlType.F32, new byte[4 * 20], new byte[4 * 20]));
    }

    /// <summary>Y [rows][M] for a case: the emulated kernels (or, with <paramref name="generic"/>, QuantDot's scalar order).</summary>
    private static float[] Compute(GgmlReference.MatMulCase c, MatMulKernel? forced, bool generic)
    {
        var type = NumericsVectors.Type(c.Type);
        int rows = c.Expected.Length / c.M;
        var gen = new NumericsVectors(c.Seed);
        float[] w = gen.Take(c.M * c.K), x = gen.Take(rows * c.K);
        int rowBytes = checked((int)GgmlTypeInfo.Get(type).RowBytes(c.K));
        var weights = new byte[c.M * rowBytes];
        for (int o = 0; o < c.M; o++) GgmlQuants.QuantizeRow(type, w.AsSpan(o * c.K, c.K), weights.AsSpan(o * rowBytes, rowBytes));
        var dotType = QuantDot.VecDotType(type);
        var encoded = new byte[GgmlTypeInfo.Get(dotType).RowBytes(c.K)];
        var y = new float[rows * c.M];
        for (int r = 0; r < rows; r++)
        {
            ActivationEncoder.Encode(dotType, x.AsSpan(r * c.K, c.K), encoded);
            var kernel = forced ?? CpuMatMul.Select(type, c.K, c.M, rows, r);
            for (int o = 0; o < c.M; o++)
            {
                var row = weights.AsSpan(o * rowBytes, rowBytes);
                y[r * c.M + o] = generic ? QuantDot.Dot(type, row, encoded) : CpuMatMul.Dot(kernel, type, row, encoded);
            }
        }
        return y;
    }
}
