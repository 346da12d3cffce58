using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Inference;

/// <summary>
/// A Hugging Face folder (unpermuted q/k, NEOX rope, safetensors) must compute the same model as the GGUF that
/// llama.cpp's converter made from it (permuted q/k, NORM rope).
/// </summary>
[TestClass]
public sealed class HuggingFaceFolderTests
{
    [TestMethod]
    [DataRow("tiny-llama-F32", 1)]
    [DataRow("tiny-llama-tied-F32", 2)]
    [DataRow("tiny-qwen2-F32", 1)]
    public void FolderLogitsEqualGgufLogits(string model, int shards)
    {
        string folder = TestData.ScratchDirectory("hf-" + model);
        try
        {
            string gguf = TestData.Path("models", model + ".gguf");
            HfCheckpointBuilder.Build(gguf, folder, new HfCheckpointBuilder.Options(Shards: shards));
            var golden = LlamaCppGolden.Load(model);
            int[] prompt = golden.PromptTokens("girl");
            float[] fromGguf = Logits(gguf, prompt), fromFolder = Logits(folder, prompt);
            double range = fromGguf.Max() - fromGguf.Min();
            for (int i = 0; i < fromGguf.Length; i++)
                Assert.AreEqual(fromGguf[i], fromFolder[i], 1e-5 * range, $"{model} logit {i}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static float[] Logits(string path, int[] prompt)
    {
        using var source = ModelSource.Open(path);
        using var backend = new ReferenceBackend();
        using var model = new Transformer(source, backend);
        return new Session(model).Prefill(prompt).ToArray();
    }
}
