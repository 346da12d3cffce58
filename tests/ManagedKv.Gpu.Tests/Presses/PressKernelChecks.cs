using ILGPU.Runtime;
using ManagedKv.Gpu.Presses;
using ManagedKv.Model.Compression;
using ManagedKv.Model.Diagnostics;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Gpu.Tests.Presses;

/// <summary>
/// The check every press kernel passes, on any accelerator: a real forward pass of stories260K (reference backend)
/// over the 201-token story prompt and 4 greedy decode steps, once with the scalar oracles and once with the GPU
/// kernels' scores (<see cref="ScoringBackend"/>); the plans must be identical, so must the tokens and logits, and
/// every kernel call's scores must be within <see cref="RelativeTolerance"/> of the oracle's on the same inputs.
/// </summary>
internal static class PressKernelChecks
{
    /// <summary>
    /// Score tolerance, relative to the call's largest |oracle score|. KNorm, the head means and SnapKV's pooling
    /// repeat the oracle's f64 summation order and come out bit-equal on the CPU accelerator; LagKV's softmax sums in
    /// a group reduction, which reorders f64 additions (differences of an f32 ulp or so: ~1e-7 relative).
    /// </summary>
    public const double RelativeTolerance = 1e-5;

    /// <summary>Press name, its arguments (LagKV gets partitions short enough for a 201-token prompt), the kernel it must use.</summary>
    public static IEnumerable<object[]> Cases =>
    [
        ["knorm", "", "knorm"],
        ["snapkv", "", "snapkv"],
        ["pyramidkv", "", "pyramidkv"],
        ["tova", "", "tova"],
        ["h2o", "", "head-mean"],
        ["lagkv", "lag=32,sink=4", "lagkv-partitions"],
        ["lagkv", "lag=32,sink=4,variant=kvpress", "lagkv-partitions"],
    ];

    /// <summary>Runs the check; returns the kernel's stats for the caller's log.</summary>
    public static CheckedScoring.KernelStats Verify(Accelerator accelerator, string press, string arguments, string kernel)
    {
        var golden = LlamaCppGolden.Load("stories260K");
        using var source = ModelSource.Open(golden.ModelPath);
        using var kernels = new GpuPressScoring(accelerator);
        var scoring = new CheckedScoring(kernels);
        var reference = new ReferenceBackend();
        var parity = new BackendParity(source, () => new ScoringBackend(reference, scoring), () => new ReferenceBackend());
        var args = arguments.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(a => a.Split('=')).ToDictionary(a => a[0], a => a[1]);
        var result = parity.Compare(PressRegistry.Get(press), new CompressionBudget { Compression = 0.5 }, args, golden.PromptTokens("story"), steps: 5);

        Assert.IsTrue(scoring.Stats.TryGetValue(kernel, out var stats) && stats.Calls > 0, $"the {kernel} kernel was never called");
        Assert.IsGreaterThan(0, result.PlansCompared, "the press made no plan: nothing was checked");
        Assert.IsTrue(result.PlansEqual, $"plans from kernel scores differ: {result.FirstPlanDifference}");
        Assert.IsTrue(result.GreedyEqual, $"greedy tokens diverge at step {result.FirstDivergentStep}");
        Assert.AreEqual(0, result.MaxLogitDifference, "same arithmetic apart from the scores, same plans: the logits must be the same bits");
        Assert.IsLessThanOrEqualTo(RelativeTolerance, stats.MaxRelative, $"{kernel}: {stats}");
        return stats;
    }
}
