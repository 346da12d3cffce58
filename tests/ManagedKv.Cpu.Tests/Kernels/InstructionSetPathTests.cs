using System.Runtime.Intrinsics;
using ManagedKv.Cpu.Kernels;
using ManagedKv.Cpu.Tests.Inference;
using ManagedKv.Gguf;
using ManagedKv.Model.Inference;

namespace ManagedKv.Cpu.Tests.Kernels;

/// <summary>
/// The instruction-set variants compute the same numbers: VNNI's vpdpbusd and AVX2's pmaddubsw/pmaddwd give the
/// same integer lanes, and the 256-bit kernels (what AVX2-only machines run) give bit-identical outputs to the
/// AVX-512 ones (on a machine without AVX-512 both runs take the 256-bit path and agree trivially). Not
/// parallelised: it switches the process-wide AVX-512 flag.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class InstructionSetPathTests
{
    [TestMethod]
    public void VnniAndAvx2IntegerLanesAgree()
    {
        var rng = new Random(4);
        var u = new byte[32];
        var a = new sbyte[32];
        var c = new int[8];
        for (int trial = 0; trial < 2000; trial++)
        {
            rng.NextBytes(u);
            for (int i = 0; i < 32; i++) a[i] = (sbyte)rng.Next(-127, 128);
            for (int i = 0; i < 8; i++) c[i] = rng.Next(-100000, 100000);
            var uv = Vector256.Create(u);
            var av = Vector256.Create(a);
            var cv = Vector256.Create(c);
            Assert.AreEqual(Simd.DotWideAvx2(uv, av), Simd.DotWide(CorrectionFor128(a), uv, av), "full-range codes");
            var narrow = Vector256.Create((byte)63) & uv;
            Assert.AreEqual(Simd.DotAvx2(cv, narrow, av), Simd.Dot(cv, narrow, av), "6-bit codes");
        }
    }

    /// <summary>−128 · (sum of each 4 activation codes): what the VNNI path adds for codes stored as w + 128.</summary>
    private static Vector256<int> CorrectionFor128(sbyte[] a)
    {
        var c = new int[8];
        for (int i = 0; i < 32; i++) c[i / 4] -= 128 * a[i];
        return Vector256.Create(c);
    }

    [TestMethod]
    [DataRow(GgmlType.F32)]
    [DataRow(GgmlType.F16)]
    [DataRow(GgmlType.BF16)]
    [DataRow(GgmlType.Q2_K)]
    [DataRow(GgmlType.Q3_K)]
    [DataRow(GgmlType.Q4_K)]
    [DataRow(GgmlType.Q5_K)]
    [DataRow(GgmlType.Q6_K)]
    public void Avx2KernelsMatchAvx512Bitwise(GgmlType type)
    {
        const int rows = 23, tokens = 6, k = 512 + 256;
        var w = TestMatrix.Random(type, rows, k, seed: 21);
        float[] x = TestMatrix.Activations(tokens, k, seed: 22);
        float[] wide = RunMatMul(w, x, tokens, k, rows, avx512: true);
        float[] narrow = RunMatMul(w, x, tokens, k, rows, avx512: false);
        for (int i = 0; i < wide.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(wide[i]), BitConverter.SingleToInt32Bits(narrow[i]), $"{type} output {i}: {wide[i]} vs {narrow[i]}");
    }

    [TestMethod]
    [DataRow("tiny-llama-Q4_K_M")]
    [DataRow("tiny-llama-BF16")]
    public void Avx2ForwardPassMatchesAvx512Bitwise(string model)
    {
        bool saved = Simd.UseAvx512;
        try
        {
            var wide = ModelRun.Greedy(() => new CpuBackend(2), model, "story", steps: 3);
            Simd.UseAvx512 = false;
            var narrow = ModelRun.Greedy(() => new CpuBackend(2), model, "story", steps: 3);
            for (int s = 0; s < wide.Logits.Length; s++)
                for (int i = 0; i < wide.Logits[s].Length; i++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(wide.Logits[s][i]), BitConverter.SingleToInt32Bits(narrow.Logits[s][i]), $"{model} step {s} logit {i}");
        }
        finally
        {
            Simd.UseAvx512 = saved;
        }
    }

    private static float[] RunMatMul(TestMatrix w, float[] x, int tokens, int k, int rows, bool avx512)
    {
        bool saved = Simd.UseAvx512;
        Simd.UseAvx512 = avx512 && saved;
        try
        {
            using var backend = new CpuBackend(2);
            var weight = backend.PrepareWeight(w.View);
            var input = (HostTensor)backend.Allocate(tokens, k);
            x.CopyTo(input.Data, 0);
            var output = (HostTensor)backend.Allocate(tokens, rows);
            backend.MatMul(weight, input, tokens, output);
            return output.Data;
        }
        finally
        {
            Simd.UseAvx512 = saved;
        }
    }
}
