using ManagedKv.Model.Evaluation.Results;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Sampling;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Model.Evaluation.Retrieval;

/// <summary>
/// Runs retrieval prompts: prefill the prompt (the presses compress it), decode greedily until an
/// end-of-generation token or <see cref="MaxNewTokens"/>, and score the decoded answer against the key.
/// </summary>
public sealed class RetrievalEvaluator
{
    private readonly Transformer _model;
    private readonly ModelTokenizer _tokenizer;

    /// <summary>Creates an evaluator; <paramref name="maxNewTokens"/> of 0 means the key's token count + 8.</summary>
    public RetrievalEvaluator(Transformer model, ModelTokenizer tokenizer, RetrievalTask task, int seed, int maxNewTokens = 0)
    {
        _model = model;
        _tokenizer = tokenizer;
        Task = task;
        Seed = seed;
        MaxNewTokens = maxNewTokens > 0 ? maxNewTokens : tokenizer.Encode(task.RepresentativeKey(), addSpecial: false).Length + 8;
    }

    /// <summary>The prompt family.</summary>
    public RetrievalTask Task { get; }

    /// <summary>Seed of the keys.</summary>
    public int Seed { get; }

    /// <summary>Most tokens generated per answer.</summary>
    public int MaxNewTokens { get; }

    /// <summary>Tokens of the prompt for <paramref name="words"/> filler words at <paramref name="depth"/> (BOS included).</summary>
    public int PromptTokens(int words, double depth) => _tokenizer.Encode(Task.Prompt(words, depth, Task.RepresentativeKey()), addSpecial: true).Length;

    /// <summary>
    /// A grid sized from the model's context: <paramref name="lengthCount"/> lengths from max/count words up to the
    /// most words whose prompts leave room for the answer, × <paramref name="depthCount"/> depths from 0 to 1.
    /// </summary>
    /// <exception cref="ArgumentException">The context cannot hold the instruction, needle and question.</exception>
    public RetrievalGrid SizeGrid(int lengthCount, int depthCount, int samples, int maxWords = 0)
    {
        var depths = RetrievalGrid.Spaced(0, 1, depthCount);
        int context = _model.Config.ContextLength;
        int fit = RetrievalGrid.MaxWords(PromptTokens, depths, context, MaxNewTokens);
        if (fit < 1) throw new ArgumentException($"a {Task.Kind} prompt with an answer of {MaxNewTokens} tokens does not fit the context of {context} tokens");
        int max = maxWords > 0 ? Math.Min(maxWords, fit) : fit;
        return new RetrievalGrid(RetrievalGrid.SpacedLengths(Math.Max(1, max / lengthCount), max, lengthCount), depths, samples);
    }

    /// <summary>Runs one prompt under <paramref name="configuration"/>.</summary>
    public RetrievalCell Evaluate(PressConfiguration configuration, int words, double depth, int sample) =>
        Evaluate(configuration, words, depth, sample, Encode(words, depth, sample));

    /// <summary>The plan: every (length, depth, sample) prompt, tokenised once, under every press setting.</summary>
    public IReadOnlyList<PlannedCell<RetrievalCell>> Plan(RetrievalGrid grid, IReadOnlyList<PressConfiguration> configurations)
    {
        (int Words, double Depth, int Sample)? cachedAt = null;
        int[] cached = [];
        int[] PromptFor(int words, double depth, int sample)
        {
            if (cachedAt != (words, depth, sample)) { cached = Encode(words, depth, sample); cachedAt = (words, depth, sample); }
            return cached;
        }
        var plan = new List<PlannedCell<RetrievalCell>>();
        foreach (int words in grid.Lengths)
            foreach (double depth in grid.Depths)
                for (int sample = 0; sample < grid.Samples; sample++)
                {
                    int s = sample;
                    foreach (var configuration in configurations)
                        plan.Add(new PlannedCell<RetrievalCell>(RetrievalCell.KeyOf(configuration.Key, words, depth, s),
                            $"{configuration.Key} {words} words depth {depth:0.##}",
                            () => Evaluate(configuration, words, depth, s, PromptFor(words, depth, s))));
                }
        return plan;
    }

    private int[] Encode(int words, double depth, int sample) =>
        _tokenizer.Encode(Task.Prompt(words, depth, Task.Key(Seed, words, depth, sample)), addSpecial: true);

    private RetrievalCell Evaluate(PressConfiguration configuration, int words, double depth, int sample, int[] prompt)
    {
        string key = Task.Key(Seed, words, depth, sample);
        int room = _model.Config.ContextLength - prompt.Length;
        if (room < 1) throw new ArgumentException($"a prompt of {prompt.Length} tokens leaves no room in the context of {_model.Config.ContextLength}");
        int limit = Math.Min(MaxNewTokens, room);

        var session = new Session(_model) { Compression = configuration.CreateRunner(_model.Config) };
        var logits = session.Prefill(prompt);
        long bytes = session.Cache.ByteCount, fullBytes = session.Cache.FullCacheBytes;
        var generated = new List<int>(limit);
        while (generated.Count < limit)
        {
            int next = Sampler.ArgMax(logits);
            if (_tokenizer.IsEndOfGeneration(next)) break;
            generated.Add(next);
            if (generated.Count < limit) logits = session.Decode(next);
        }
        string response = _tokenizer.Decode(generated.ToArray(), skipSpecial: true);
        return new RetrievalCell(configuration.Key, configuration.Name, configuration.Compression, words, depth, sample, prompt.Length,
            key, response, AnswerMetrics.ExactMatch(key, response), AnswerMetrics.PartialMatch(key, response), bytes, fullBytes);
    }
}
