using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Inference;

/// <summary>
/// The reference backend reproduces llama.cpp's <c>f32_attention</c> logits bit for bit: for every model whose
/// matrices are all quantised, on all four prompts. Models with F32/F16/BF16 matrices differ in the last bits
/// only on prompts of two or more tokens, because llama.cpp runs the last block's feed-forward network on the
/// output row alone (a one-row product takes ggml_vec_dot, a batch llamafile's tinyBLAS) while
/// <see cref="Transformer"/> runs it on every row of the batch; on the one-token prompt they are exact too.
/// </summary>
[TestClass]
public sealed class ReferenceBackendBitExactTests
{
    public static IEnumerable<object[]> Models => LlamaCppGolden.Models.Select(m => new object[] { m });

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void LogitsAreBitIdenticalToLlamaCpp(string model)
    {
        var golden = LlamaCppGolden.Load(model);
        bool floatMatrices = golden.TensorTypes.Where(kv => !kv.Key.Contains("norm") && !kv.Key.EndsWith(".bias"))
            .Any(kv => kv.Value is "F32" or "F16" or "BF16");
        using var source = ModelSource.Open(golden.ModelPath);
        using var transformer = new Transformer(source, new ReferenceBackend());
        foreach (string prompt in LlamaCppGolden.PromptIds)
        {
            float[] expected = golden.Logits(prompt);
            var actual = new Session(transformer).Prefill(golden.PromptTokens(prompt)).ToArray();
            int tokens = golden.PromptTokens(prompt).Length;
            if (!floatMatrices || tokens == 1)
            {
                for (int i = 0; i < expected.Length; i++)
                    Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]),
                        $"{model}/{prompt}: logit {i} is {actual[i]:R}, llama.cpp {expected[i]:R}");
            }
            else
            {
                double range = expected.Max() - expected.Min();
                double maxError = expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).Max();
                Assert.IsTrue(maxError <= 1e-6 * range, $"{model}/{prompt}: max |Δlogit| {maxError:G3} exceeds 1e-6 × range");
            }
        }
    }
}
