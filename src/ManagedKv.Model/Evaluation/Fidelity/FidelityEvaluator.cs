using ManagedKv.Model.Evaluation.Results;
using ManagedKv.Model.Inference;

namespace ManagedKv.Model.Evaluation.Fidelity;

/// <summary>
/// Measures how far a compressed cache's predictions drift from the full cache's. Per window: prefill the
/// context (the presses compress it after each layer's prefill), then feed the continuation one token at a time
/// with <see cref="Session.Decode"/> (teacher forcing; decode-time presses keep compressing) and score every
/// prediction: negative log-likelihood of the true token, KL(full ‖ compressed) of the next-token distributions,
/// and whether the most likely tokens agree. The full cache runs the same code path with no presses, so a
/// lossless setting gives KL exactly 0 and agreement exactly 1.
/// </summary>
public sealed class FidelityEvaluator
{
    private readonly Transformer _model;
    private readonly double[] _logQ; // [vocab] the compressed cache's log-probabilities, reused per prediction

    /// <summary>Creates an evaluator.</summary>
    /// <exception cref="ArgumentException">The window does not fit the model's context.</exception>
    public FidelityEvaluator(Transformer model, FidelityOptions options)
    {
        options.Validate(model.Config.ContextLength);
        _model = model;
        Options = options;
        _logQ = new double[model.VocabSize];
    }

    /// <summary>Window sizes.</summary>
    public FidelityOptions Options { get; }

    private delegate void PredictionScorer(int index, ReadOnlySpan<float> logits);

    /// <summary>Runs the full cache over <paramref name="window"/> and keeps its next-token distributions.</summary>
    public FullCacheReference Reference(int[] window)
    {
        int vocab = _model.VocabSize, count = Options.ContinuationTokens;
        var logP = new double[count * vocab];
        var top1 = new int[count];
        TeacherForce(new Session(_model), window, (j, logits) =>
        {
            var row = logP.AsSpan(j * vocab, vocab);
            LogProbabilities.LogSoftmax(logits, row);
            top1[j] = LogProbabilities.ArgMax(row);
        });
        return new FullCacheReference(logP, top1, vocab);
    }

    /// <summary>Scores <paramref name="configuration"/> on one window against the full cache's <paramref name="reference"/>.</summary>
    public FidelityCell Evaluate(int windowIndex, int[] window, FullCacheReference reference, PressConfiguration configuration)
    {
        if (reference.Count != Options.ContinuationTokens) throw new ArgumentException("the reference was made with other window sizes");
        int context = Options.ContextTokens;
        double nll = 0, kl = 0;
        int agreements = 0;
        var session = new Session(_model) { Compression = configuration.CreateRunner(_model.Config) };
        var (bytes, fullBytes) = TeacherForce(session, window, (j, logits) =>
        {
            LogProbabilities.LogSoftmax(logits, _logQ);
            nll -= _logQ[window[context + j]];
            kl += LogProbabilities.KlDivergence(reference.LogProbabilities(j), _logQ);
            if (LogProbabilities.ArgMax(_logQ) == reference.Top1(j)) agreements++;
        });
        return new FidelityCell(configuration.Key, configuration.Name, configuration.Compression, windowIndex,
            Options.ContinuationTokens, nll, kl, agreements, bytes, fullBytes, session.Cache.ByteCount, session.Cache.FullCacheBytes);
    }

    /// <summary>
    /// The run's plan: windows outermost, so each window's full-cache reference is computed once (and only when
    /// one of its cells is missing), then every press setting.
    /// </summary>
    public IReadOnlyList<PlannedCell<FidelityCell>> Plan(IReadOnlyList<int[]> windows, IReadOnlyList<PressConfiguration> configurations)
    {
        int cachedWindow = -1;
        FullCacheReference? cached = null;
        FullCacheReference ReferenceFor(int w)
        {
            if (cachedWindow != w) { cached = Reference(windows[w]); cachedWindow = w; }
            return cached!;
        }
        var plan = new List<PlannedCell<FidelityCell>>(windows.Count * configurations.Count);
        for (int w = 0; w < windows.Count; w++)
        {
            int window = w;
            foreach (var configuration in configurations)
                plan.Add(new PlannedCell<FidelityCell>(FidelityCell.KeyOf(configuration.Key, w), $"{configuration.Key} window {w}",
                    () => Evaluate(window, windows[window], ReferenceFor(window), configuration)));
        }
        return plan;
    }

    /// <summary>
    /// Prefills the window's context, then decodes its continuation token by token; calls <paramref name="score"/>
    /// with the logits predicting continuation token j. Returns the cache's bytes right after the prefill.
    /// </summary>
    private (long Bytes, long FullBytes) TeacherForce(Session session, int[] window, PredictionScorer score)
    {
        int context = Options.ContextTokens, continuation = Options.ContinuationTokens;
        if (window.Length != context + continuation) throw new ArgumentException($"window of {window.Length} tokens, expected {context + continuation}");
        var logits = session.Prefill(window.AsSpan(0, context));
        long bytes = session.Cache.ByteCount, fullBytes = session.Cache.FullCacheBytes;
        score(0, logits);
        for (int j = 1; j < continuation; j++) score(j, session.Decode(window[context + j - 1]));
        return (bytes, fullBytes);
    }
}
