namespace ManagedKv.Model.Inference;

/// <summary>
/// An opt-in output of the attention kernel for one layer and one forward call: per query head and per cached
/// token, the sum of the softmax probabilities the token received from the queries in <see cref="Queries"/>
/// (H2O asks for every query of the call, SnapKV for the last <c>window</c> queries of the prompt, TOVA for the
/// last query only). A hook hands one to the forward pass through <see cref="ILayerHook.StatisticsFor"/>; when
/// none is asked for, the kernel runs its ordinary path and pays nothing.
/// <para>
/// Entry <c>j</c> of a query head's sums belongs to token <c>j</c> of the KV head that query head reads
/// (<c>kvHead = queryHead / (QueryHeadCount / kvHeads)</c>), so the sums are sized to that head's token count and
/// grow as prefill micro-batches append tokens. The buffers are kept between calls (<see cref="Begin"/> only
/// resets lengths), so a warm decode loop allocates nothing.
/// </para>
/// </summary>
public sealed class AttentionStatistics
{
    private readonly float[][] _sums;   // [queryHeads][capacity]: Σ over counted queries of p(query → token j)
    private readonly int[] _lengths;    // [queryHeads] tokens covered so far

    /// <summary>Creates empty statistics for a layer with <paramref name="queryHeads"/> query heads.</summary>
    public AttentionStatistics(int queryHeads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queryHeads, 1);
        _sums = new float[queryHeads][];
        for (int h = 0; h < queryHeads; h++) _sums[h] = [];
        _lengths = new int[queryHeads];
    }

    /// <summary>Query heads of the layer.</summary>
    public int QueryHeadCount => _sums.Length;

    /// <summary>The positions the forward call processes.</summary>
    public PositionRange Call { get; private set; }

    /// <summary>
    /// The positions of the queries whose probabilities are summed: a suffix of <see cref="Call"/>. Every such query
    /// contributes a distribution that sums to 1 over the tokens it sees.
    /// </summary>
    public PositionRange Queries { get; private set; }

    /// <summary>
    /// Starts a forward call: sums the attention of the queries at positions ≥ <paramref name="firstQuery"/> of
    /// <paramref name="call"/>, over tokens not yet seen (every length is reset to 0; buffers are kept).
    /// </summary>
    public void Begin(PositionRange call, int firstQuery)
    {
        Call = call;
        Queries = new PositionRange(Math.Clamp(firstQuery, call.Start, Math.Max(call.Start, call.End)), call.End);
        Array.Clear(_lengths);
    }

    /// <summary>Whether the kernel adds the probabilities of the query at <paramref name="position"/>.</summary>
    public bool Counts(int position) => Queries.Contains(position);

    /// <summary>
    /// The kernel's accumulator for <paramref name="queryHead"/>, grown to <paramref name="tokens"/> entries (new
    /// entries start at zero: tokens appended by this micro-batch have received nothing yet). Tokens are only
    /// appended during a forward call, so the count never shrinks between two calls of one <see cref="Begin"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The KV head holds fewer tokens than already covered.</exception>
    public Span<float> Accumulator(int queryHead, int tokens)
    {
        int length = _lengths[queryHead];
        if (tokens < length)
            throw new InvalidOperationException($"attention statistics of query head {queryHead} cover {length} tokens; the KV head now holds {tokens}");
        if (tokens > length)
        {
            ref float[] sums = ref _sums[queryHead];
            if (sums.Length < tokens) Array.Resize(ref sums, Math.Max(tokens, Math.Max(16, sums.Length * 2)));
            sums.AsSpan(length, tokens - length).Clear();
            _lengths[queryHead] = tokens;
        }
        return _sums[queryHead].AsSpan(0, tokens);
    }

    /// <summary>The sums of <paramref name="queryHead"/>, one per token of its KV head, [tokens].</summary>
    public ReadOnlySpan<float> Sums(int queryHead) => _sums[queryHead].AsSpan(0, _lengths[queryHead]);

    /// <summary>
    /// Follows an eviction applied after the kernel ran (a press earlier in a composition): keeps, for every query
    /// head, the entries of the tokens its KV head kept, so later presses read sums aligned with the cache.
    /// </summary>
    /// <param name="keepPerKvHead">[kvHeads][kept] strictly increasing token indices, as in a keep plan.</param>
    internal void Keep(IReadOnlyList<int[]> keepPerKvHead)
    {
        int group = QueryHeadCount / keepPerKvHead.Count;
        for (int h = 0; h < QueryHeadCount; h++)
        {
            var keep = keepPerKvHead[h / group];
            if (keep.Length > 0 && keep[^1] >= _lengths[h])
                throw new ArgumentException($"keep index {keep[^1]} is beyond the {_lengths[h]} tokens the statistics of query head {h} cover");
            var sums = _sums[h];
            for (int k = 0; k < keep.Length; k++) sums[k] = sums[keep[k]];
            _lengths[h] = keep.Length;
        }
    }
}
