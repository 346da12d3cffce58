using System.Buffers;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// SnapKV: score every prompt token by the attention the last <see cref="Window"/> queries of the prompt (the
/// observation window) pay it, and keep the observation window itself. Li et al., "SnapKV: LLM Knows What You are
/// Looking for Before Generation", 2024 (arXiv:2404.14469). Parameters: <c>window</c> (64, kvpress's default),
/// <c>kernel</c> (5, the pooling kernel of kvpress and the authors' SnapKVCluster).
/// <para>
/// As kvpress's SnapKVPress: for each token before the window, its probability from each window query averaged
/// over the window's queries, smoothed by <see cref="AttentionScores.AveragePool(ReadOnlySpan{float}, int, Span{float})"/> (zero padding kernel/2, divided
/// by the kernel) over the tokens before the window, and averaged over the GQA group (the same linear operations,
/// taken group-first). The window is always kept (kvpress pads it with the maximum score); the rest of the budget
/// goes to the highest scores, ties to the lower position. A budget smaller than the window keeps the window only.
/// Prefill only. A prompt of at most <see cref="Window"/> tokens is left alone (kvpress asserts q_len &gt; window).
/// </para>
/// </summary>
public class SnapKvPress : ScorerPress
{
    private readonly int _kernel = 5;

    /// <summary>Creates the press with the default window (64).</summary>
    public SnapKvPress() => RecentWindow = 64;

    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("snapkv",
        "keep the tokens the prompt's last window queries attend to (pooled, averaged over the GQA group) + the window (prefill)",
        "Li et al., 2024, arXiv:2404.14469",
        [
            new("window", "int", "64", "observation window: the last queries of the prompt whose attention scores the tokens; always kept"),
            new("kernel", "int", "5", "1-D average pooling kernel over the token axis (odd)"),
            .. HeadBudgetParameters,
            .. LayerBudgetParameters,
        ],
        a => new SnapKvPress { Budget = a.Budget, Window = a.Int("window"), KernelSize = a.Int("kernel") });

    /// <inheritdoc/>
    public override string Name => "snapkv";

    /// <summary>Observation window: the last prompt queries that score, and the tokens always kept.</summary>
    public int Window
    {
        get => RecentWindow;
        init { ArgumentOutOfRangeException.ThrowIfLessThan(value, 1); RecentWindow = value; }
    }

    /// <summary>Average pooling kernel (odd, ≥ 1).</summary>
    public int KernelSize
    {
        get => _kernel;
        init
        {
            if (value < 1 || value % 2 == 0) throw new ArgumentOutOfRangeException(nameof(KernelSize), value, "the pooling kernel must be odd and ≥ 1");
            _kernel = value;
        }
    }

    /// <inheritdoc/>
    /// <remarks>The last <see cref="Window"/> queries of a prefill call.</remarks>
    public override int? AttentionQueryStart(CompressionPhase phase, int layer, PositionRange call) =>
        phase == CompressionPhase.Prefill ? call.End - Window : null;

    /// <inheritdoc/>
    public override KvPlan? CompressPrefill(PressContext context)
    {
        var statistics = context.RequireStatistics(Name);
        return statistics.Call.Count <= Window ? null : base.CompressPrefill(context);
    }

    /// <inheritdoc/>
    public override void Score(PressContext context, int kvHead, Span<float> scores)
    {
        var statistics = context.RequireStatistics(Name);
        var positions = context.Head(kvHead).Positions;
        int prefix = AttentionScores.CountBefore(positions, statistics.Queries.Start); // tokens before the observation window
        int group = AttentionScores.GroupSize(statistics, context);
        float[] rented = ArrayPool<float>.Shared.Rent(Math.Max(prefix, 1));
        try
        {
            var mean = rented.AsSpan(0, prefix); // [prefix] attention averaged over the window's queries and the group
            AttentionScores.MeanOverHeads(context, statistics, kvHead * group, group, mean);
            float queries = statistics.Queries.Count;
            for (int i = 0; i < prefix; i++) mean[i] /= queries;
            AttentionScores.AveragePool(context, mean, _kernel, scores[..prefix]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
        // The window is kept by RecentWindow; the score only mirrors kvpress's "max" padding.
        scores[prefix..].Fill(float.PositiveInfinity);
    }
}
