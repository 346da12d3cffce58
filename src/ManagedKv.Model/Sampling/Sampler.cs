namespace ManagedKv.Model.Sampling;

/// <summary>
/// Picks the next token from logits. Buffers are sized once for the vocabulary, so sampling allocates
/// nothing per token. Deterministic for a given seed.
/// </summary>
public sealed class Sampler
{
    private readonly SamplerOptions _options;
    private readonly Random _random;
    private readonly float[] _logits;     // [vocab] logits after exclusions and penalties
    private readonly int[] _ids;          // [vocab] candidate ids, best first
    private readonly float[] _values;     // [vocab] candidate probabilities, aligned with _ids
    private readonly int[] _recent;       // ring of the last RepeatLastN accepted tokens
    private int _recentCount, _recentNext;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabSize"/> tokens.</summary>
    public Sampler(int vocabSize, SamplerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        _options = options;
        _random = new Random(options.Seed);
        _logits = new float[vocabSize];
        _ids = new int[vocabSize];
        _values = new float[vocabSize];
        _recent = new int[Math.Max(0, options.RepeatLastN)];
    }

    /// <summary>Records an accepted token (prompt or generated) for the repetition penalty.</summary>
    public void Accept(int token)
    {
        if (_recent.Length == 0) return;
        _recent[_recentNext] = token;
        _recentNext = (_recentNext + 1) % _recent.Length;
        _recentCount = Math.Min(_recentCount + 1, _recent.Length);
    }

    /// <summary>Index of the largest value; the lowest index wins ties (llama.cpp's greedy rule).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>Chooses the next token. <paramref name="excluded"/> tokens (e.g. EOS with ignore-eos) are never chosen.</summary>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> excluded = default)
    {
        int n = Math.Min(logits.Length, _logits.Length);
        logits[..n].CopyTo(_logits);
        foreach (int e in excluded)
            if ((uint)e < (uint)n) _logits[e] = float.NegativeInfinity;
        ApplyRepeatPenalty(n);
        if (_options.Temperature <= 0) return ArgMax(_logits.AsSpan(0, n));

        int count = SelectTop(n, _options.TopK > 0 ? Math.Min(_options.TopK, n) : n);
        for (int i = 0; i < count; i++) _values[i] = _logits[_ids[i]];
        Softmax(count);
        if (_options.TopP < 1.0f)
        {
            float cumulative = 0;
            for (int i = 0; i < count; i++)
            {
                cumulative += _values[i];
                if (cumulative >= _options.TopP) { count = i + 1; break; }
            }
        }
        if (_options.MinP > 0)
        {
            float threshold = _values[0] * _options.MinP;
            int kept = 1;
            while (kept < count && _values[kept] >= threshold) kept++;
            count = kept;
        }
        // Temperature applies to the survivors' logits, then they are renormalised.
        for (int i = 0; i < count; i++) _values[i] = _logits[_ids[i]] / _options.Temperature;
        Softmax(count);

        double r = _random.NextDouble(), acc = 0;
        for (int i = 0; i < count; i++)
        {
            acc += _values[i];
            if (r < acc) return _ids[i];
        }
        return _ids[count - 1];
    }

    /// <summary>
    /// Puts the <paramref name="k"/> best ids into _ids[0..k), best first; equal logits rank the lower id first,
    /// so the result never depends on sort stability. A size-k min-heap keeps this O(n log k).
    /// </summary>
    private int SelectTop(int n, int k)
    {
        int size = 0;
        for (int id = 0; id < n; id++)
        {
            if (size < k) { _ids[size] = id; SiftUp(size++); }
            else if (Better(id, _ids[0])) { _ids[0] = id; SiftDown(0, size); }
        }
        // Heap-sort in place: repeatedly move the worst to the end, leaving best-first order.
        for (int end = size - 1; end > 0; end--)
        {
            (_ids[0], _ids[end]) = (_ids[end], _ids[0]);
            SiftDown(0, end);
        }
        return size;
    }

    private bool Better(int a, int b) => _logits[a] > _logits[b] || (_logits[a] == _logits[b] && a < b);

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(_ids[parent], _ids[i])) break;
            (_ids[parent], _ids[i]) = (_ids[i], _ids[parent]);
            i = parent;
        }
    }

    private void SiftDown(int i, int size)
    {
        while (true)
        {
            int worst = i, l = 2 * i + 1, r = l + 1;
            if (l < size && Better(_ids[worst], _ids[l])) worst = l;
            if (r < size && Better(_ids[worst], _ids[r])) worst = r;
            if (worst == i) return;
            (_ids[worst], _ids[i]) = (_ids[i], _ids[worst]);
            i = worst;
        }
    }

    private void ApplyRepeatPenalty(int n)
    {
        float penalty = _options.RepeatPenalty;
        if (penalty == 1.0f || _recentCount == 0) return;
        for (int k = 0; k < _recentCount; k++)
        {
            int t = _recent[k];
            if ((uint)t >= (uint)n) continue;
            // Penalise each distinct token once, as llama.cpp does.
            bool seenBefore = false;
            for (int j = 0; j < k; j++) if (_recent[j] == t) { seenBefore = true; break; }
            if (seenBefore) continue;
            _logits[t] = _logits[t] > 0 ? _logits[t] / penalty : _logits[t] * penalty;
        }
    }

    private void Softmax(int count)
    {
        float max = _values[0];
        for (int i = 1; i < count; i++) max = MathF.Max(max, _values[i]);
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            _values[i] = MathF.Exp(_values[i] - max);
            sum += _values[i];
        }
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < count; i++) _values[i] *= inv;
    }
}
