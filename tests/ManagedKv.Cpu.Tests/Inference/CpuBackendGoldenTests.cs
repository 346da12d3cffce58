using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// The CPU backend (2 threads) against llama.cpp's goldens, for every model and prompt. Q8_0 models match
/// llama.cpp's logits bit for bit (the kernels follow ggml's arithmetic, the activation codes are llama.cpp's
/// and attention sums in tinyBLAS's lane order); other files agree to about 1e-6, F16/BF16 to ~2e-3.
/// </summary>
[TestClass]
public sealed class CpuBackendGoldenTests
{
    public static IEnumerable<object[]> ModelsAndPrompts =>
        LlamaCppGolden.Models.SelectMany(m => LlamaCppGolden.PromptIds.Select(p => new object[] { m, p }));

    public static IEnumerable<object[]> Models => LlamaCppGolden.Models.Select(m => new object[] { m });

    [TestMethod]
    [DynamicData(nameof(ModelsAndPrompts))]
    public void LogitsMatchLlamaCpp(string model, string prompt)
    {
        var (error, allowed) = ForwardPassConformance.CheckLogits(() => new CpuBackend(2), model, prompt);
        Console.WriteLine($"{model}/{prompt}: max |Δlogit| {error:G4} (allowed {allowed:G4})");
    }

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyIgnoringEosMatchesLlamaCpp(string model) =>
        ForwardPassConformance.CheckGreedy(() => new CpuBackend(2), model, ignoreEos: true, requireAllSteps: model == "stories260K");

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyNaturalMatchesLlamaCpp(string model) =>
        ForwardPassConformance.CheckGreedy(() => new CpuBackend(2), model, ignoreEos: false, requireAllSteps: model == "stories260K");
}
