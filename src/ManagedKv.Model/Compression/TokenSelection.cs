namespace ManagedKv.Model.Compression;

/// <summary>
/// The selection every scoring press shares, written once: forced tokens (sinks, recent window) plus the
/// top-k of the rest by score, ties broken by the lower position, returned in ascending index order; and its
/// adaptive form across the KV heads of a layer (AdaKV).
/// </summary>
public static class TokenSelection
{
    /// <summary>
    /// Indices of the <paramref name="keep"/> tokens to retain out of <c>scores.Length</c>: the first
    /// <paramref name="sinks"/> and last <paramref name="recent"/> tokens always, then the highest scores.
    /// </summary>
    /// <param name="scores">[tokens] higher = more important. NaN ranks lowest.</param>
    /// <param name="keep">How many to keep (clamped to [forced, tokens]).</param>
    /// <param name="sinks">Leading tokens always kept.</param>
    /// <param name="recent">Trailing tokens always kept.</param>
    public static int[] Select(ReadOnlySpan<float> scores, int keep, int sinks = 0, int recent = 0)
    {
        int count = scores.Length;
        int first = Math.Min(Math.Max(sinks, 0), count), tail = Math.Min(Math.Max(recent, 0), count - first);
        if (Math.Clamp(keep, first + tail, count) == count - 1)
        {
            // One eviction (a decode step of H2O or TOVA): the token the full ranking would put last — the lowest
            // score, the highest index among equal ones — found in one pass instead of a sort.
            int worst = first;
            float worstKey = RankKey(scores[first]);
            for (int i = first + 1; i < count - tail; i++)
            {
                float key = RankKey(scores[i]);
                if (key <= worstKey)
                {
                    worst = i;
                    worstKey = key;
                }
            }
            var kept = new int[count - 1];
            for (int i = 0, k = 0; i < count; i++)
                if (i != worst) kept[k++] = i;
            return kept;
        }
        var head = new Ranking(scores, keep, sinks, recent);
        return head.Keep == scores.Length ? Enumerable.Range(0, scores.Length).ToArray() : head.Take(head.Keep - head.Forced);
    }

    /// <summary>
    /// Adaptive per-head budgets (AdaKV, as kvpress's AdaKVPress with <paramref name="alpha"/> = alpha_safeguard):
    /// head h keeps its forced tokens (sinks, recent window) and its best-scored tokens up to ⌊α·keep[h]⌋ in all
    /// (the safeguard); the rest of the layer's budget Σ keep[h] goes to the highest remaining scores across every
    /// head, ties to the lower head, then the lower position. Heads therefore keep different counts; the total is
    /// the layer's budget.
    /// </summary>
    /// <param name="scores">[kvHeads][tokens of the head] higher = more important; NaN ranks lowest.</param>
    /// <param name="keep">[kvHeads] each head's own budget (clamped to [forced, tokens] per head).</param>
    /// <param name="alpha">The safeguard fraction in [0, 1].</param>
    /// <param name="sinks">Leading tokens always kept in every head.</param>
    /// <param name="recent">Trailing tokens always kept in every head.</param>
    /// <returns>[kvHeads][kept] ascending indices.</returns>
    public static int[][] SelectAcrossHeads(IReadOnlyList<ReadOnlyMemory<float>> scores, ReadOnlySpan<int> keep, double alpha, int sinks = 0, int recent = 0)
    {
        if (keep.Length != scores.Count) throw new ArgumentException($"{keep.Length} budgets for {scores.Count} heads", nameof(keep));
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1]");
        int heads = scores.Count;
        var rankings = new Ranking[heads];
        var taken = new int[heads]; // [kvHeads] ranked (non-forced) tokens kept so far
        int remaining = 0;
        var candidates = new List<(float Key, int Head, int Rank)>();
        for (int h = 0; h < heads; h++)
        {
            var r = rankings[h] = new Ranking(scores[h].Span, keep[h], sinks, recent);
            // The safeguard counts the forced tokens, which kvpress pads with the maximum score (so they rank first).
            taken[h] = Math.Clamp((int)(r.Keep * alpha) - r.Forced, 0, r.Keep - r.Forced);
            remaining += r.Keep - r.Forced - taken[h];
            for (int k = taken[h]; k < r.Order.Length; k++) candidates.Add((r.Keys[r.Order[k] - r.First], h, k));
        }
        // Score descending, then head, then rank within the head (= position among equal scores): a total order.
        candidates.Sort((a, b) =>
        {
            int c = b.Key.CompareTo(a.Key);
            if (c != 0) return c;
            c = a.Head.CompareTo(b.Head);
            return c != 0 ? c : a.Rank.CompareTo(b.Rank);
        });
        // Within a head the candidates arrive in rank order, so the first `remaining` of them extend each head's prefix.
        for (int i = 0; i < remaining; i++) taken[candidates[i].Head]++;
        var result = new int[heads][];
        for (int h = 0; h < heads; h++) result[h] = rankings[h].Take(taken[h]);
        return result;
    }

    /// <summary>One head's tokens: the forced ones and the rest ranked by score (descending, ties to the lower index).</summary>
    /// <summary>A score as the ranking compares it: NaN ranks lowest.</summary>
    private static float RankKey(float score) => float.IsNaN(score) ? float.NegativeInfinity : score;

    private readonly struct Ranking
    {
        public Ranking(ReadOnlySpan<float> scores, int keep, int sinks, int recent)
        {
            Count = scores.Length;
            First = Math.Min(Math.Max(sinks, 0), Count);
            Tail = Math.Min(Math.Max(recent, 0), Count - First);
            Keep = Math.Clamp(keep, First + Tail, Count);
            var order = new int[Count - First - Tail];
            var keys = new float[order.Length];
            // Order: score descending, then index ascending: a total order, so the plan is a pure function of the
            // scores. Sorted as 64-bit keys (inverted order-preserving score bits, then the index) rather than with
            // a comparison delegate; ±0 compare equal as in float.CompareTo, so both map to +0.
            var sortKeys = new ulong[order.Length];
            for (int i = 0; i < order.Length; i++)
            {
                keys[i] = RankKey(scores[First + i]);
                uint bits = BitConverter.SingleToUInt32Bits(keys[i] == 0 ? 0f : keys[i]);
                uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
                sortKeys[i] = ((ulong)~ascending << 32) | (uint)(First + i);
            }
            Array.Sort(sortKeys);
            for (int i = 0; i < order.Length; i++) order[i] = (int)(uint)sortKeys[i];
            Order = order;
            Keys = keys;
        }

        public int Count { get; }    // tokens of the head
        public int First { get; }    // leading forced tokens (sinks)
        public int Tail { get; }     // trailing forced tokens (recent window)
        public int Keep { get; }     // the head's own budget, clamped to [Forced, Count]
        public int Forced => First + Tail;
        public int[] Order { get; }  // [Count − Forced] non-forced indices, best first
        public float[] Keys { get; } // [Count − Forced] sort keys by index − First (NaN → −∞)

        /// <summary>The forced tokens and the <paramref name="ranked"/> best others, ascending.</summary>
        public int[] Take(int ranked)
        {
            var result = new int[Forced + ranked];
            int k = 0;
            for (int i = 0; i < First; i++) result[k++] = i;
            for (int i = 0; i < ranked; i++) result[k++] = Order[i];
            for (int i = Count - Tail; i < Count; i++) result[k++] = i;
            Array.Sort(result);
            return result;
        }
    }
}
