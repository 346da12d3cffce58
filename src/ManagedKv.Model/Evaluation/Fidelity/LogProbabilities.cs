namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>Next-token distributions in log space and the divergences between them.</summary>
public static class LogProbabilities
{
    /// <summary>
    /// log softmax(<paramref name="logits"/>) into <paramref name="output"/>, in double with the maximum subtracted —
    /// the same arithmetic as <see cref="Perplexity.LogSoftmaxAt"/>, so the two give identical values.
    /// </summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<double> output)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = MathF.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        double logSum = Math.Log(sum);
        for (int i = 0; i < logits.Length; i++) output[i] = logits[i] - max - logSum;
    }

    /// <summary>
    /// KL(P ‖ Q) = Σ p (log p − log q) in nats, from log-probabilities. Identical inputs give exactly 0; terms
    /// with p = 0 contribute nothing (0 · log 0 = 0).
    /// </summary>
    public static double KlDivergence(ReadOnlySpan<double> logP, ReadOnlySpan<double> logQ)
    {
        if (logP.Length != logQ.Length) throw new ArgumentException($"distributions of {logP.Length} and {logQ.Length} entries");
        double kl = 0;
        for (int i = 0; i < logP.Length; i++)
        {
            double p = Math.Exp(logP[i]);
            if (p > 0) kl += p * (logP[i] - logQ[i]);
        }
        return kl;
    }

    /// <summary>Index of the largest entry (the lowest index among equal maxima).</summary>
    public static int ArgMax(ReadOnlySpan<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
