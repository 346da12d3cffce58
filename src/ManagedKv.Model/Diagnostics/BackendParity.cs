using System.Globalization;
using ManagedKv.Model.Cache;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Sampling;

namespace ManagedKv.Model.Diagnostics;

/// <summary>
/// Backend parity: runs one prompt through a candidate backend and an oracle backend (each made fresh by its
/// factory) with the same press, then compares what the press decided (<see cref="PressRunner.History"/>: kept
/// positions, merge sets, quantisation formats, plus the quantised storage's fingerprints), the greedy
/// continuation, and the logits. Backend-neutral: any two <see cref="IBackend"/>s (GPU vs CPU, CPU vs reference).
/// <para>
/// Both runs generate their own greedy tokens. Logits and plans are compared only while both runs have consumed
/// the same tokens: up to and including the first step whose greedy token differs.
/// </para>
/// </summary>
/// <param name="source">The model (shared, read-only).</param>
/// <param name="candidate">Creates the backend under test.</param>
/// <param name="oracle">Creates the backend it is checked against.</param>
public sealed class BackendParity(ModelSource source, Func<IBackend> candidate, Func<IBackend> oracle)
{
    /// <summary>Prefill micro-batch of both runs.</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Relative logit tolerance (difference / oracle logit range) of the verdict.</summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>
    /// Compares the backends on <paramref name="prompt"/> with the press <paramref name="pressFactory"/> makes (called
    /// once per run: presses hold per-session state) for <paramref name="steps"/> greedy tokens.
    /// </summary>
    /// <param name="press">Label of the result (the press's name).</param>
    /// <param name="pressFactory">Creates the press (or composition) for one run; an empty list runs the full cache.</param>
    /// <param name="prompt">Prompt token ids (BOS included, as the model expects).</param>
    /// <param name="steps">Greedy tokens to generate (≥ 1).</param>
    public PressParityResult Compare(string press, Func<IReadOnlyList<IKvPress>> pressFactory, ReadOnlySpan<int> prompt, int steps)
    {
        ArgumentNullException.ThrowIfNull(pressFactory);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (prompt.IsEmpty) throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        var expected = Run(oracle, pressFactory, prompt, steps);
        var actual = Run(candidate, pressFactory, prompt, steps);

        int? divergent = null;
        for (int s = 0; s < steps && divergent is null; s++)
            if (actual.Tokens[s] != expected.Tokens[s]) divergent = s;
        int compared = divergent ?? steps - 1; // the last step whose logits both runs computed from the same tokens

        double maxDifference = 0, relative = 0;
        for (int s = 0; s <= compared; s++)
        {
            var (difference, range) = LogitDifference(expected.Logits[s], actual.Logits[s]);
            maxDifference = Math.Max(maxDifference, difference);
            relative = Math.Max(relative, range > 0 ? difference / range : difference > 0 ? double.PositiveInfinity : 0);
        }
        bool nearTie = false;
        if (divergent is { } d)
        {
            var (difference, _) = LogitDifference(expected.Logits[d], actual.Logits[d]);
            nearTie = TopMargin(expected.Logits[d]) <= 2 * difference;
        }

        // Plans made before the first divergent token was consumed saw identical inputs in both runs.
        int plans = divergent is { } first ? first : steps - 1;
        var comparison = PlanComparison.Compare(expected, actual, expected.HistoryAfterStep[plans], actual.HistoryAfterStep[plans]);
        var storage = divergent is null ? StorageComparison.Compare(expected.Cache, actual.Cache) : new StorageComparison();
        return new PressParityResult(press, comparison.PlansCompared, comparison.Covered.Count, comparison.Differing.Count, comparison.First,
            storage.Covered.Count, storage.Differing.Count, storage.First, steps, divergent, nearTie, maxDifference, relative, Tolerance);
    }

    /// <summary>
    /// <see cref="Compare(string, Func{IReadOnlyList{IKvPress}}, ReadOnlySpan{int}, int)"/> for a registered press at a budget, with <c>name=value</c> arguments (only those the
    /// press declares are passed to it).
    /// </summary>
    /// <param name="descriptor">The press.</param>
    /// <param name="budget">Its budget.</param>
    /// <param name="arguments">Press arguments; keys the press does not declare are ignored.</param>
    /// <param name="prompt">Prompt token ids.</param>
    /// <param name="steps">Greedy tokens to generate.</param>
    public PressParityResult Compare(PressDescriptor descriptor, CompressionBudget budget, IReadOnlyDictionary<string, string>? arguments,
        ReadOnlySpan<int> prompt, int steps)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var own = (arguments ?? new Dictionary<string, string>())
            .Where(a => descriptor.Parameters.Any(p => p.Name == a.Key)).ToDictionary(a => a.Key, a => a.Value);
        return Compare(descriptor.Name, () => [descriptor.Create(budget, own)], prompt, steps);
    }

    /// <summary>One backend's run: greedy tokens, their logits, the plans and the final cache.</summary>
    internal sealed record RunRecord(int[] Tokens, float[][] Logits, IReadOnlyList<KvPlan> History, int[] HistoryAfterStep, KvCache Cache);

    private RunRecord Run(Func<IBackend> factory, Func<IReadOnlyList<IKvPress>> pressFactory, ReadOnlySpan<int> prompt, int steps)
    {
        using var backend = factory();
        using var model = new Transformer(source, backend, BatchSize);
        var runner = new PressRunner(model.Config, pressFactory()) { Record = true };
        var session = new Session(model) { Compression = runner };
        var tokens = new int[steps];
        var logits = new float[steps][];
        var historyAfterStep = new int[steps]; // [s] plans recorded once the logits of step s existed
        logits[0] = session.Prefill(prompt).ToArray();
        for (int s = 0; s < steps; s++)
        {
            if (s > 0) logits[s] = session.Decode(tokens[s - 1]).ToArray();
            historyAfterStep[s] = runner.History.Count;
            tokens[s] = Sampler.ArgMax(logits[s]);
        }
        return new RunRecord(tokens, logits, runner.History.ToArray(), historyAfterStep, session.Cache);
    }

    private static (double Difference, double Range) LogitDifference(float[] expected, float[] actual)
    {
        double difference = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            difference = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(difference, d);
            min = Math.Min(min, expected[i]);
            max = Math.Max(max, expected[i]);
        }
        return (difference, max - min);
    }

    private static double TopMargin(float[] logits)
    {
        double first = double.NegativeInfinity, second = double.NegativeInfinity;
        foreach (float v in logits)
        {
            if (v > first) (first, second) = (v, first);
            else if (v > second) second = v;
        }
        return first - second;
    }

    /// <summary>Distinct (layer, KV head) pairs covered and differing, plus the first difference.</summary>
    private class HeadTally
    {
        public HashSet<(int Layer, int Head)> Covered { get; } = [];
        public HashSet<(int Layer, int Head)> Differing { get; } = [];
        public string? First { get; private set; }

        protected void Differ(int layer, int head, string description)
        {
            Differing.Add((layer, head));
            First ??= description;
        }
    }

    /// <summary>Plan-by-plan comparison of two histories, counted per (layer, KV head).</summary>
    private sealed class PlanComparison : HeadTally
    {
        public int PlansCompared { get; private set; }

        public static PlanComparison Compare(RunRecord expected, RunRecord actual, int expectedPlans, int actualPlans)
        {
            var result = new PlanComparison();
            int heads = expected.Cache.KvHeadCount;
            for (int i = 0; i < Math.Max(expectedPlans, actualPlans); i++)
            {
                var e = i < expectedPlans ? expected.History[i] : null;
                var a = i < actualPlans ? actual.History[i] : null;
                int layer = (e ?? a)!.Layer;
                result.PlansCompared++;
                for (int h = 0; h < heads; h++)
                {
                    result.Covered.Add((layer, h));
                    string x = Describe(e, h), y = Describe(a, h);
                    if (x != y) result.Differ(layer, h, $"plan {i} (layer {layer}) head {h}: oracle {x}; candidate {y}");
                }
            }
            return result;
        }

        /// <summary>What a plan decided for one head, as comparable text (null plan: "no plan").</summary>
        private static string Describe(KvPlan? plan, int head) => plan switch
        {
            null => "no plan",
            KeepPlan keep => string.Create(CultureInfo.InvariantCulture, $"layer {keep.Layer} keep [{string.Join(' ', keep.KeepPerHead[head])}]"),
            MergePlan merge => string.Create(CultureInfo.InvariantCulture,
                $"merge {merge.LowerLayer}+{merge.Layer} t={merge.T:R} keys [{string.Join(' ', merge.RetainedKeys[head])}] values [{string.Join(' ', merge.RetainedValues[head])}]"),
            _ => plan.ToString(), // records (e.g. QuantizePlan) compare by value
        };
    }

    /// <summary>Fingerprints of storage that positions do not describe (quantised KIVI codes), per (layer, KV head).</summary>
    private sealed class StorageComparison : HeadTally
    {
        public static StorageComparison Compare(KvCache expected, KvCache actual)
        {
            var result = new StorageComparison();
            for (int l = 0; l < expected.LayerCount; l++)
                for (int h = 0; h < expected.KvHeadCount; h++)
                {
                    KvHead e = expected.Head(l, h), a = actual.Head(l, h);
                    if (e.Keys.Fingerprint is null && e.Values.Fingerprint is null && a.Keys.Fingerprint is null && a.Values.Fingerprint is null) continue;
                    result.Covered.Add((l, h));
                    if (e.Keys.Fingerprint != a.Keys.Fingerprint)
                        result.Differ(l, h, $"layer {l} head {h} keys: oracle {e.Keys.Fingerprint}; candidate {a.Keys.Fingerprint}");
                    if (e.Values.Fingerprint != a.Values.Fingerprint)
                        result.Differ(l, h, $"layer {l} head {h} values: oracle {e.Values.Fingerprint}; candidate {a.Values.Fingerprint}");
                }
            return result;
        }
    }
}
