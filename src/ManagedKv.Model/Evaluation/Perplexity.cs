using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Evaluation;

/// <summary>Result of a perplexity run.</summary>
/// <param name="Value">exp(mean negative log-likelihood) over every scored token.</param>
/// <param name="StandardError">llama-perplexity's ± estimate (delta method on the NLL's standard error).</param>
/// <param name="Chunks">Chunks evaluated.</param>
/// <param name="ScoredTokens">Predictions scored.</param>
/// <param name="RunningValues">Perplexity after each chunk.</param>
public sealed record PerplexityResult(double Value, double StandardError, int Chunks, int ScoredTokens, IReadOnlyList<double> RunningValues);

/// <summary>
/// Perplexity exactly as llama.cpp's <c>llama-perplexity</c> computes it: the tokenised text (BOS first) is cut
/// into consecutive chunks of <c>nCtx</c> tokens (the remainder is dropped); each chunk starts from an empty
/// cache with its first token replaced by BOS; only the second half's predictions are scored (positions
/// nCtx/2 … nCtx−2 predict the next token).
/// </summary>
public static class Perplexity
{
    /// <summary>Evaluates <paramref name="tokens"/> (already tokenised, BOS included).</summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">Tokens of the whole text.</param>
    /// <param name="contextLength">Chunk length nCtx.</param>
    /// <param name="bosId">Token id that replaces each chunk's first token.</param>
    /// <param name="maxChunks">Stop after this many chunks (0 = all).</param>
    /// <param name="progress">Called with (chunks done, chunks total) after each chunk.</param>
    public static PerplexityResult Evaluate(Transformer model, ReadOnlySpan<int> tokens, int contextLength, int bosId,
        int maxChunks = 0, Action<int, int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 4);
        int chunks = tokens.Length / contextLength;
        if (maxChunks > 0) chunks = Math.Min(chunks, maxChunks);
        if (chunks == 0) throw new ArgumentException($"the text has {tokens.Length} tokens, fewer than one chunk of {contextLength}");

        int vocab = model.VocabSize;
        var logits = new float[contextLength * vocab];
        var chunk = new int[contextLength];
        var cache = model.CreateCache();
        int first = contextLength / 2;
        double nll = 0, nll2 = 0;
        int count = 0;
        var running = new List<double>(chunks);
        for (int c = 0; c < chunks; c++)
        {
            tokens.Slice(c * contextLength, contextLength).CopyTo(chunk);
            chunk[0] = bosId;
            cache.Clear();
            model.Forward(chunk, cache, LogitsMode.All, logits);
            for (int i = first; i < contextLength - 1; i++)
            {
                double v = -LogSoftmaxAt(logits.AsSpan(i * vocab, vocab), tokens[c * contextLength + i + 1]);
                nll += v;
                nll2 += v * v;
                count++;
            }
            running.Add(Math.Exp(nll / count));
            progress?.Invoke(c + 1, chunks);
        }
        double mean = nll / count;
        double variance = nll2 / count - mean * mean;
        double error = count > 1 ? Math.Sqrt(Math.Max(variance, 0) / (count - 1)) : 0;
        double ppl = Math.Exp(mean);
        return new PerplexityResult(ppl, ppl * error, chunks, count, running);
    }

    /// <summary>log softmax(logits)[target], computed in double with the max subtracted.</summary>
    public static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = MathF.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return logits[target] - max - Math.Log(sum);
    }
}
