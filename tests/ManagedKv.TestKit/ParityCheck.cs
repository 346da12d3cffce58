using ManagedKv.Model.Compression;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;

namespace ManagedKv.TestKit;

/// <summary>
/// Backend parity for tests: every registered press, one small model, a candidate backend against an oracle
/// (<see cref="BackendParity"/>), on the 201-token story prompt. One call per (model, backend pair) is a whole
/// parity test: <c>ParityCheck.AssertEveryPress("stories260K", () =&gt; new GpuBackend(...), () =&gt; new CpuBackend(2))</c>.
/// </summary>
public static class ParityCheck
{
    /// <summary>The models parity tests run on (small, with llama.cpp goldens).</summary>
    public static readonly string[] Models = ["stories260K", "tiny-llama-F32"];

    /// <summary>
    /// Press arguments that make every press do work on the story prompt: LagKV's default lag (128) needs 272
    /// tokens, so it gets 32. Presses ignore arguments they do not declare.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Arguments { get; } = new Dictionary<string, string> { ["lag"] = "32" };

    /// <summary>Compares <paramref name="candidate"/> with <paramref name="oracle"/> for every registered press.</summary>
    /// <param name="model">A name from <see cref="LlamaCppGolden.Models"/>.</param>
    /// <param name="candidate">Creates the backend under test (once per press).</param>
    /// <param name="oracle">Creates the backend it is checked against.</param>
    /// <param name="compression">The compression ratio of every press.</param>
    /// <param name="steps">Greedy tokens compared.</param>
    /// <param name="tolerance">Relative logit tolerance.</param>
    /// <param name="promptTokens">Leading tokens of the story prompt used (all 201 by default; slow backends use fewer).</param>
    /// <param name="arguments">Press arguments (default <see cref="Arguments"/>).</param>
    public static IReadOnlyList<PressParityResult> EveryPress(string model, Func<IBackend> candidate, Func<IBackend> oracle,
        double compression = 0.5, int steps = 8, double tolerance = 1e-3, int promptTokens = int.MaxValue,
        IReadOnlyDictionary<string, string>? arguments = null)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        var parity = new BackendParity(source, candidate, oracle) { Tolerance = tolerance };
        int[] story = golden.PromptTokens("story");
        int[] prompt = story[..Math.Min(promptTokens, story.Length)];
        var budget = new CompressionBudget { Compression = compression };
        return PressRegistry.All.Select(d => parity.Compare(d, budget, arguments ?? Arguments, prompt, steps)).ToList();
    }

    /// <summary>
    /// <see cref="EveryPress"/>, asserting every press is within tolerance (equal plans, logits within tolerance,
    /// greedy tokens equal or diverging at a near tie) and that the presses that compress did make plans.
    /// </summary>
    /// <returns>The results, for the test's log.</returns>
    public static IReadOnlyList<PressParityResult> AssertEveryPress(string model, Func<IBackend> candidate, Func<IBackend> oracle,
        double compression = 0.5, int steps = 8, double tolerance = 1e-3, int promptTokens = int.MaxValue,
        IReadOnlyDictionary<string, string>? arguments = null)
    {
        var results = EveryPress(model, candidate, oracle, compression, steps, tolerance, promptTokens, arguments);
        var failures = results.Where(r => !r.WithinTolerance).ToList();
        if (failures.Count > 0)
            throw new AssertFailedException($"{model}: backends differ beyond tolerance:\n" + string.Join('\n', failures));
        // Guard against a vacuous pass: the eviction presses must have produced plans to compare.
        foreach (var r in results.Where(r => r.Press is "random" or "streaming_llm" or "h2o" or "snapkv" or "tova"))
            if (r.PlansCompared == 0) throw new AssertFailedException($"{model}: press {r.Press} made no plan, nothing was compared");
        return results;
    }
}
