using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>
/// The CPU backend (2 threads) against llama.cpp's goldens, for every model and prompt. Q8_0 models match
/// llama.cpp's logits bit for bit (the kernels follow ggml's AVX2 arithmetic and the activation codes are
/// llama.cpp's); F32/BF16/quantised models otherwise agree to ~1e-6, F16 to ~1e-3.
/// </summary>
[TestClass]
public sealed class CpuBackendGoldenTests
{
    /// <summary>
    /// The 201-token story prompt on these files misses the 1e-3·range bound, as on the reference backend:
    /// measured max |Δlogit| 0.040 (Q4_1), 0.034 (Q5_1), 0.042 (Q4_K_M), 0.039 (Q6_K), 0.041 (Q2_K) against
    /// an allowed ~0.0055. Every other prompt of the same files agrees to &lt;1e-6, so this is a rounding flip of
    /// one activation code amplified by the random-weight models, not a kernel error (see the report).
    /// </summary>
    private static readonly (string Model, string Prompt)[] KnownGaps =
    [
        ("tiny-llama-Q4_1", "story"), ("tiny-llama-Q5_1", "story"), ("tiny-llama-Q4_K_M", "story"),
        ("tiny-llama-Q6_K", "story"), ("tiny-llama-Q2_K", "story"),
    ];

    public static IEnumerable<object[]> ModelsAndPrompts =>
        LlamaCppGolden.Models.SelectMany(m => LlamaCppGolden.PromptIds.Select(p => (m, p)))
            .Where(c => !KnownGaps.Contains(c)).Select(c => new object[] { c.m, c.p });

    public static IEnumerable<object[]> KnownGapCases => KnownGaps.Select(c => new object[] { c.Model, c.Prompt });

    public static IEnumerable<object[]> Models => LlamaCppGolden.Models.Select(m => new object[] { m });

    [TestMethod]
    [DynamicData(nameof(ModelsAndPrompts))]
    public void LogitsMatchLlamaCpp(string model, string prompt)
    {
        var (error, allowed) = ForwardPassConformance.CheckLogits(() => new CpuBackend(2), model, prompt);
        Console.WriteLine($"{model}/{prompt}: max |Δlogit| {error:G4} (allowed {allowed:G4})");
    }

    [TestMethod]
    [TestCategory("KnownGap")]
    [DynamicData(nameof(KnownGapCases))]
    public void LogitsMatchLlamaCpp_Quantized(string model, string prompt) =>
        ForwardPassConformance.CheckLogits(() => new CpuBackend(2), model, prompt);

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyIgnoringEosMatchesLlamaCpp(string model) =>
        ForwardPassConformance.CheckGreedy(() => new CpuBackend(2), model, ignoreEos: true, requireAllSteps: model == "stories260K");

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void GreedyNaturalMatchesLlamaCpp(string model) =>
        ForwardPassConformance.CheckGreedy(() => new CpuBackend(2), model, ignoreEos: false, requireAllSteps: model == "stories260K");
}
