using ManagedKv.Cpu.Activations;
using ManagedKv.Gguf;

namespace ManagedKv.Cpu.Tests.Kernels;

/// <summary>
/// The SIMD activation quantisers produce exactly the codes, scales and sums of <see cref="ActivationQuants"/>
/// (llama.cpp's x86 quantize_row_q8_0 / q8_1 / q8_K), including zero blocks, halfway values, a negative
/// extreme first, and blocks holding NaN or ±∞.
/// </summary>
[TestClass]
public sealed unsafe class ActivationQuantizerTests
{
    [TestMethod]
    [DataRow("Q8_0", 128)]
    [DataRow("Q8_0", 8)]
    [DataRow("Q8_1", 0)]
    [DataRow("Q8_K", 0)]
    [DataRow("Q8_K", 32)]
    public void MatchesLlamaCppX86Quantizer(string kindName, int bias)
    {
        var kind = Enum.Parse<ActivationKind>(kindName);
        const int k = 1024;
        float[][] rows = [.. TestRows(k)];
        using var buffer = new ActivationBuffer();
        buffer.Prepare(kind, bias, rows.Length, k, portable: false);
        for (int r = 0; r < rows.Length; r++)
            fixed (float* x = rows[r]) ActivationQuantizer.QuantizeRow(buffer, r, x);

        var type = ActivationBuffer.VecDotType(kind);
        var expected = new byte[GgmlTypeInfo.Get(type).RowBytes(k)];
        for (int r = 0; r < rows.Length; r++)
        {
            ActivationEncoderFor(kind)(rows[r], expected);
            for (int i = 0; i < k; i++)
            {
                int block = kind == ActivationKind.Q8_K ? i / 256 : i / 32;
                int offset = kind switch
                {
                    ActivationKind.Q8_0 => block * Q8_0.BlockBytes + Q8_0.OffsetQs + i % 32,
                    ActivationKind.Q8_1 => block * Q8_1.BlockBytes + Q8_1.OffsetQs + i % 32,
                    _ => block * Q8K.BlockBytes + Q8K.OffsetQs + i % 256,
                };
                Assert.AreEqual((sbyte)expected[offset], buffer.Codes[(long)r * k + i], $"{kind} row {r} code {i}");
            }
            if (kind == ActivationKind.Q8_K)
            {
                for (int b = 0; b < k / 256; b++)
                {
                    var blockBytes = expected.AsSpan(b * Q8K.BlockBytes, Q8K.BlockBytes);
                    AssertSameFloat(Q8K.ReadD(blockBytes), buffer.Scales[r * (k / 256) + b], $"row {r} block {b} d");
                    for (int j = 0; j < 16; j++)
                        Assert.AreEqual(Q8K.ReadBsum(blockBytes, j), buffer.BlockSums[r * (k / 16) + 16 * b + j], $"row {r} block {b} bsum {j}");
                    for (int j = 0; j < 8; j++)
                        Assert.AreEqual((short)(Q8K.ReadBsum(blockBytes, 2 * j) + Q8K.ReadBsum(blockBytes, 2 * j + 1)), buffer.PairSums[r * (k / 32) + 8 * b + j]);
                }
            }
            else
            {
                int bytes = kind == ActivationKind.Q8_0 ? Q8_0.BlockBytes : Q8_1.BlockBytes;
                for (int b = 0; b < k / 32; b++)
                {
                    AssertSameFloat(Fp16.Read(expected, b * bytes), buffer.Scales[r * (k / 32) + b], $"row {r} block {b} d");
                    if (kind == ActivationKind.Q8_1)
                        AssertSameFloat(Fp16.Read(expected, b * bytes + Q8_1.OffsetS), buffer.Sums[r * (k / 32) + b], $"row {r} block {b} s");
                }
            }
            if (bias != 0 && kind == ActivationKind.Q8_K)
                for (int pair = 0; pair < k / 2; pair++)
                {
                    int sum = buffer.Codes[(long)r * k + 2 * pair] + buffer.Codes[(long)r * k + 2 * pair + 1];
                    Assert.AreEqual((short)(bias * sum), buffer.BiasPairs[(long)r * (k / 2) + pair], $"row {r} bias pair {pair}");
                }
            else if (bias != 0)
                for (int lane = 0; lane < k / 4; lane++)
                {
                    int sum = 0;
                    for (int j = 0; j < 4; j++) sum += buffer.Codes[(long)r * k + 4 * lane + j];
                    Assert.AreEqual(-bias * sum, buffer.Corr[(long)r * (k / 4) + lane], $"row {r} correction lane {lane}");
                }
        }
    }

    private static void AssertSameFloat(float expected, float actual, string what)
    {
        if (float.IsNaN(expected)) Assert.IsTrue(float.IsNaN(actual), what);
        else Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(actual), $"{what}: {expected} vs {actual}");
    }

    private delegate void Encoder(ReadOnlySpan<float> x, Span<byte> destination);

    private static Encoder ActivationEncoderFor(ActivationKind kind) => kind switch
    {
        ActivationKind.Q8_0 => ActivationQuants.QuantizeQ8_0,
        ActivationKind.Q8_1 => ActivationQuants.QuantizeQ8_1,
        _ => ActivationQuants.QuantizeQ8_K,
    };

    private static IEnumerable<float[]> TestRows(int k)
    {
        var rng = new Random(42);
        for (int r = 0; r < 12; r++)
        {
            var x = new float[k];
            for (int i = 0; i < k; i++) x[i] = (float)(TestMatrix.Normal(rng) * Math.Pow(10, rng.Next(-3, 3)));
            yield return x;
        }
        // zero blocks, an all-equal block, exact halfway products, the extreme negative first and ±extremes tied
        var special = new float[k];
        for (int i = 0; i < 32; i++) special[32 + i] = 0.25f;
        for (int i = 0; i < 32; i++) special[64 + i] = (i - 16) * 0.5f + 0.25f;
        special[96] = -3f; special[97] = 3f; special[98] = 1.5f;
        for (int i = 256; i < 512; i++) special[i] = (i % 7 - 3) * 0.125f;
        special[300] = -2f; special[400] = 2f;
        yield return special;
        // non-finite values in some blocks (handled by the scalar path) next to ordinary ones
        var odd = new float[k];
        for (int i = 0; i < k; i++) odd[i] = (float)TestMatrix.Normal(rng);
        odd[5] = float.NaN;
        odd[40] = float.PositiveInfinity;
        odd[300] = float.NegativeInfinity;
        odd[600] = float.NaN;
        odd[601] = float.PositiveInfinity;
        yield return odd;
    }
}
