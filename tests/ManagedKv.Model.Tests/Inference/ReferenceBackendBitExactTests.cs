using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Inference;

/// <summary>
/// The reference backend reproduces llama.cpp's <c>f32_attention</c> logits bit for bit, for every model and all
/// four prompts (the golden build's CPU numerics are emulated in Numerics/, and <see cref="Transformer"/> runs the
/// last block's feed-forward network on the output row alone, as llama.cpp does).
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
        using var source = ModelSource.Open(golden.ModelPath);
        using var transformer = new Transformer(source, new ReferenceBackend());
        foreach (string prompt in LlamaCppGolden.PromptIds)
        {
            float[] expected = golden.Logits(prompt);
            var actual = new Session(transformer).Prefill(golden.PromptTokens(prompt)).ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.AreEqual(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(actual[i]),
                    $"{model}/{prompt}: logit {i} is {actual[i]:R}, llama.cpp {expected[i]:R}");
        }
    }
}
