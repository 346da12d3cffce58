namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>
/// The full cache's next-token distributions over one window's continuation, computed once and compared with
/// every press and ratio.
/// </summary>
public sealed class FullCacheReference
{
    private readonly double[] _logProbabilities; // [continuation, vocab] log-probabilities of the full cache
    private readonly int[] _top1;                // [continuation] the full cache's most likely token

    internal FullCacheReference(double[] logProbabilities, int[] top1, int vocab)
    {
        _logProbabilities = logProbabilities;
        _top1 = top1;
        Vocab = vocab;
    }

    /// <summary>Vocabulary size.</summary>
    public int Vocab { get; }

    /// <summary>Predictions held (the window's continuation length).</summary>
    public int Count => _top1.Length;

    /// <summary>Log-probabilities of prediction <paramref name="j"/>.</summary>
    public ReadOnlySpan<double> LogProbabilities(int j) => _logProbabilities.AsSpan(j * Vocab, Vocab);

    /// <summary>The full cache's most likely token at prediction <paramref name="j"/>.</summary>
    public int Top1(int j) => _top1[j];
}
