using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Sampling;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ManagedKv.TestKit;

/// <summary>
/// Checks any <see cref="IBackend"/> against llama.cpp's goldens: final-position logits within
/// <see cref="GoldenTolerance"/>, and greedy continuations equal up to the first step whose recorded
/// top-1/top-2 margin is below the logit tolerance (after which a divergence is not evidence of a bug).
/// Shared by the reference, CPU and GPU backend test projects.
/// </summary>
public static class ForwardPassConformance
{
    /// <summary>
    /// Asserts the final-position logits of <paramref name="promptId"/> match; returns (max error, allowed).
    /// <paramref name="relativeTolerance"/> overrides <see cref="GoldenTolerance"/> (only for documented gaps).
    /// </summary>
    public static (double MaxError, double Allowed) CheckLogits(Func<IBackend> backendFactory, string model, string promptId,
        double? relativeTolerance = null)
    {
        var golden = LlamaCppGolden.Load(model);
        float[] expected = golden.Logits(promptId);
        using var source = ModelSource.Open(golden.ModelPath);
        using var backend = backendFactory();
        using var transformer = new Transformer(source, backend);
        var session = new Session(transformer);
        var actual = session.Prefill(golden.PromptTokens(promptId)).ToArray();

        Assert.AreEqual(expected.Length, actual.Length, "vocabulary size");
        double allowed = relativeTolerance is { } rel ? rel * (expected.Max() - expected.Min()) : Allowed(golden, expected);
        double maxError = 0;
        int worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = Math.Abs(expected[i] - actual[i]);
            if (e > maxError) { maxError = e; worst = i; }
        }
        Assert.IsTrue(maxError <= allowed,
            $"{model}/{promptId} on {backend.Name}: max |Δlogit| = {maxError:G4} at token {worst} (ours {actual[worst]}, llama.cpp {expected[worst]}), allowed {allowed:G4}");
        return (maxError, allowed);
    }

    /// <summary>
    /// Asserts greedy decoding of the golden prompt reproduces llama.cpp's tokens; returns how many steps
    /// were compared (all of them unless a recorded margin fell below the tolerance).
    /// </summary>
    public static int CheckGreedy(Func<IBackend> backendFactory, string model, bool ignoreEos, bool requireAllSteps)
    {
        var golden = LlamaCppGolden.Load(model);
        var run = golden.Greedy(ignoreEos);
        double allowed = Allowed(golden, golden.Logits(run.PromptId));
        int comparable = run.Margins.Length;
        for (int i = 0; i < run.Margins.Length; i++)
            if (run.Margins[i] < 2 * allowed) { comparable = i; break; }
        if (requireAllSteps) comparable = run.TokenIds.Length;

        using var source = ModelSource.Open(golden.ModelPath);
        using var backend = backendFactory();
        using var transformer = new Transformer(source, backend);
        var session = new Session(transformer);
        const int eos = 2;
        var logits = session.Prefill(golden.PromptTokens(run.PromptId));
        var produced = new List<int>();
        for (int step = 0; step < run.TokenIds.Length; step++)
        {
            int next = ignoreEos ? ArgMaxExcluding(logits, eos) : Sampler.ArgMax(logits);
            produced.Add(next);
            if (!ignoreEos && next == eos) break;
            if (step + 1 < run.TokenIds.Length) logits = session.Decode(next);
        }
        int compare = Math.Min(comparable, run.TokenIds.Length);
        CollectionAssert.AreEqual(run.TokenIds.Take(compare).ToArray(), produced.Take(compare).ToArray(),
            $"{model} greedy ({(ignoreEos ? "ignore-eos" : "natural")}) on {backend.Name}: first {compare} tokens\n expected {string.Join(' ', run.TokenIds)}\n got      {string.Join(' ', produced)}");
        return compare;
    }

    private static int ArgMaxExcluding(ReadOnlySpan<float> logits, int excluded)
    {
        int best = excluded == 0 ? 1 : 0;
        for (int i = 0; i < logits.Length; i++)
            if (i != excluded && logits[i] > logits[best]) best = i;
        return best;
    }

    private static double Allowed(LlamaCppGolden golden, float[] expected)
    {
        var matrixTypes = golden.TensorTypes.Where(kv => !kv.Key.Contains("norm") && !kv.Key.EndsWith(".bias")).Select(kv => kv.Value);
        return GoldenTolerance.ForModel(matrixTypes) * (expected.Max() - expected.Min());
    }
}
