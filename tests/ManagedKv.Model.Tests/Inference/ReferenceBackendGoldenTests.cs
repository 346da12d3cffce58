using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Model.Tests.Inference;

/// <summary>
/// The scalar reference backend against llama.cpp's goldens, for every model and prompt. Its numerics
/// reproduce llama.cpp's CPU backend bit for bit (<see cref="ReferenceBackendBitExactTests"/>), so every greedy
/// step must match, even where the recorded top-1/top-2 margin is below the logit tolerance.
/// </summary>
[TestClass]
public sealed class ReferenceBackendGoldenTests
{
    public static IEnumerable<object[]> ModelsAndPrompts =>
        LlamaCppGolden.Models.SelectMany(m => LlamaCppGolden.PromptIds.Select(p => new object[] { m, p }));

    public static IEnumerable<object[]> Models => LlamaCppGolden.Models.Select(m => new object[] { m });

    [TestMethod]
    [DynamicData(nameof(ModelsAndPrompts))]
    public void LogitsMatchLlamaCpp(string model, string prompt) =>
        ForwardPassConformance.CheckLogits(() => new ReferenceBackend(), model, prompt);

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyIgnoringEosMatchesLlamaCpp(string model) =>
        ForwardPassConformance.CheckGreedy(() => new ReferenceBackend(), model, ignoreEos: true, requireAllSteps: true);

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyNaturalMatchesLlamaCpp(string model) =>
        ForwardPassConformance.CheckGreedy(() => new ReferenceBackend(), model, ignoreEos: false, requireAllSteps: true);
}
