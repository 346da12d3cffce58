using ManagedKv.Model.Cache;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;

namespace ManagedKv.Model.Inference;

/// <summary>
/// The Llama-family forward pass (llama, mistral, qwen2), written once against <see cref="IBackend"/>:
/// embedding → per block [RMSNorm → Q,K,V (+bias) → RoPE → cache append → causal GQA attention →
/// output projection → residual → RMSNorm → SwiGLU FFN → residual] → RMSNorm → output projection.
/// Tokens are processed in micro-batches of at most <see cref="MaxBatch"/>; every scratch buffer is
/// allocated once, so decoding a token allocates nothing.
/// </summary>
public sealed class Transformer : IDisposable
{
    private readonly Workspace _ws;
    private readonly int[] _positions;   // [MaxBatch]
    private HostLogits? _logitRows;      // lazily sized for LogitsMode.All

    /// <summary>
    /// Binds the model's weights to a backend and allocates scratch for <paramref name="maxBatch"/> tokens;
    /// <paramref name="contextLength"/> &gt; 0 overrides the model's context length.
    /// </summary>
    public Transformer(ModelSource source, IBackend backend, int maxBatch = 512, int contextLength = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        Config = contextLength > 0 ? source.Config.WithContextLength(contextLength) : source.Config;
        Backend = backend;
        MaxBatch = maxBatch;
        Weights = TransformerWeights.Load(source, backend);
        Rope = RopeParameters.For(Config, Weights.RopeFreqFactors);
        _ws = new Workspace(backend, Config, maxBatch);
        _positions = new int[maxBatch];
    }

    /// <summary>Model hyper-parameters.</summary>
    public ModelConfig Config { get; }

    /// <summary>The backend every operation runs on.</summary>
    public IBackend Backend { get; }

    /// <summary>The bound weights.</summary>
    public TransformerWeights Weights { get; }

    /// <summary>RoPE settings resolved from the config (and the rope_freqs tensor).</summary>
    public RopeParameters Rope { get; }

    /// <summary>Largest micro-batch.</summary>
    public int MaxBatch { get; }

    /// <summary>Vocabulary size (logits per position).</summary>
    public int VocabSize => Weights.Output.OutFeatures;

    /// <summary>An empty cache shaped for this model.</summary>
    public KvCache CreateCache(KvStorageType storage = KvStorageType.F32) =>
        Backend.CreateCache(Config.BlockCount, Config.KvHeadCount, Config.HeadDim, Config.ValueHeadDim, storage);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions continuing from <see cref="KvCache.SequenceLength"/>, appending
    /// to <paramref name="cache"/>. Logits go to <paramref name="logits"/>: [VocabSize] for
    /// <see cref="LogitsMode.Last"/>, [tokens.Length, VocabSize] for <see cref="LogitsMode.All"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, LogitsMode mode, Span<float> logits, ILayerHook? hook = null)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to process", nameof(tokens));
        int vocab = VocabSize;
        int needed = mode switch { LogitsMode.Last => vocab, LogitsMode.All => checked(tokens.Length * vocab), _ => 0 };
        if (logits.Length < needed) throw new ArgumentException($"logits needs {needed} floats, got {logits.Length}", nameof(logits));
        if (cache.SequenceLength + tokens.Length > Config.ContextLength)
            throw new InvalidOperationException($"context length {Config.ContextLength} exceeded: {cache.SequenceLength} cached + {tokens.Length} new tokens");
        foreach (int t in tokens)
            if ((uint)t >= (uint)Weights.TokenEmbedding.OutFeatures)
                throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside the vocabulary of {Weights.TokenEmbedding.OutFeatures}");

        hook?.BeginForward(new PositionRange(cache.SequenceLength, cache.SequenceLength + tokens.Length));
        int batch = MaxBatch;
        if (mode == LogitsMode.All)
        {
            _logitRows ??= new HostLogits(Backend, Math.Min(MaxBatch, Math.Max(1, (1 << 24) / vocab)), vocab);
            batch = _logitRows.Rows;
        }
        for (int start = 0; start < tokens.Length; start += batch)
        {
            int n = Math.Min(batch, tokens.Length - start);
            bool last = start + n == tokens.Length;
            var chunkLogits = mode switch
            {
                LogitsMode.All => logits.Slice(start * vocab, n * vocab),
                LogitsMode.Last when last => logits[..vocab],
                _ => Span<float>.Empty,
            };
            var chunkMode = mode == LogitsMode.Last && !last ? LogitsMode.None : mode;
            ForwardBatch(tokens.Slice(start, n), cache, chunkMode, chunkLogits, hook, last);
        }
    }

    private void ForwardBatch(ReadOnlySpan<int> tokens, KvCache cache, LogitsMode mode, Span<float> logits, ILayerHook? hook, bool finalChunk)
    {
        var b = Backend;
        var c = Config;
        var w = _ws;
        int n = tokens.Length;
        var positions = _positions.AsSpan(0, n);
        for (int i = 0; i < n; i++) positions[i] = cache.SequenceLength + i;

        b.Embed(Weights.TokenEmbedding, tokens, w.X);
        for (int l = 0; l < c.BlockCount; l++)
        {
            var blk = Weights.Blocks[l];

            // attention
            b.RmsNorm(w.X, blk.AttentionNorm, c.RmsNormEps, n, w.Normed);
            b.MatMul(blk.Query, w.Normed, n, w.Q);
            b.MatMul(blk.Key, w.Normed, n, w.K);
            b.MatMul(blk.Value, w.Normed, n, w.V);
            if (blk.QueryBias is not null) b.AddBias(w.Q, blk.QueryBias, n);
            if (blk.KeyBias is not null) b.AddBias(w.K, blk.KeyBias, n);
            if (blk.ValueBias is not null) b.AddBias(w.V, blk.ValueBias, n);
            b.Rope(w.Q, c.HeadCount, c.HeadDim, positions, Rope);
            b.Rope(w.K, c.KvHeadCount, c.HeadDim, positions, Rope);
            if (n > 1) cache.Reserve(l, n); // a batch grows the KV buffers once; a decoded token doubles them when full
            b.AppendKv(cache, l, w.K, w.V, positions);
            b.Attention(w.Q, cache, l, positions, w.Attended, hook?.StatisticsFor(l));
            b.MatMul(blk.Output, w.Attended, n, w.Projected);
            b.Add(w.X, w.Projected, n);
            hook?.AfterLayer(new LayerEvent(l, cache, positions, finalChunk, b));
            if (l == c.BlockCount - 1 && mode == LogitsMode.Last && n > 1)
            {
                // Only the last row's logits are wanted: like llama.cpp, run the final FFN on that row alone
                // (its keys and values are already cached). Saves work, and picks llama.cpp's one-row kernels.
                b.CopyRows(w.X, n - 1, w.X, 0, 1);
                n = 1;
            }

            // feed-forward
            b.RmsNorm(w.X, blk.FfnNorm, c.RmsNormEps, n, w.Normed);
            if (n <= w.FfnRows)
            {
                FeedForward(blk, w.Normed, n, w.Projected);
            }
            else
            {
                // The FFN's [n, ff] intermediates are the largest scratch; running them FfnRows rows at a time
                // keeps peak memory low. Chunks start at multiples of 4, so every row takes the same kernel
                // (GEMM group or GEMV tail) as in one whole-batch product.
                for (int r0 = 0; r0 < n; r0 += w.FfnRows)
                {
                    int m = Math.Min(w.FfnRows, n - r0);
                    b.CopyRows(w.Normed, r0, w.FfnIn, 0, m);
                    FeedForward(blk, w.FfnIn, m, w.FfnOut);
                    b.CopyRows(w.FfnOut, 0, w.Projected, r0, m);
                }
            }
            b.Add(w.X, w.Projected, n);
        }

        if (mode == LogitsMode.Last)
        {
            b.CopyRows(w.X, n - 1, w.Normed, 0, 1); // n is 1 here unless the model has no blocks
            b.RmsNorm(w.Normed, Weights.OutputNorm, c.RmsNormEps, 1, w.Normed);
            b.MatMul(Weights.Output, w.Normed, 1, w.LastLogits);
            b.Download(w.LastLogits, 1, logits);
        }
        else if (mode == LogitsMode.All)
        {
            b.RmsNorm(w.X, Weights.OutputNorm, c.RmsNormEps, n, w.Normed);
            b.MatMul(Weights.Output, w.Normed, n, _logitRows!.Tensor);
            b.Download(_logitRows.Tensor, n, logits);
        }
    }

    /// <summary>SwiGLU feed-forward of <paramref name="rows"/> rows of <paramref name="x"/> into <paramref name="y"/>.</summary>
    private void FeedForward(BlockWeights blk, DeviceTensor x, int rows, DeviceTensor y)
    {
        var b = Backend;
        b.MatMul(blk.Gate, x, rows, _ws.Gate);
        b.MatMul(blk.Up, x, rows, _ws.Up);
        b.SwiGlu(_ws.Gate, _ws.Up, rows);
        b.MatMul(blk.Down, _ws.Gate, rows, y);
    }

    /// <summary>Releases the scratch tensors.</summary>
    public void Dispose()
    {
        _ws.Dispose();
        _logitRows?.Tensor.Dispose();
    }

    private sealed record HostLogits(DeviceTensor Tensor, int Rows)
    {
        public HostLogits(IBackend backend, int rows, int vocab) : this(backend.Allocate(rows, vocab), rows) { }
    }

    /// <summary>Scratch activations for one micro-batch.</summary>
    private sealed class Workspace : IDisposable
    {
        public Workspace(IBackend b, ModelConfig c, int n)
        {
            X = b.Allocate(n, c.EmbeddingLength);
            Normed = b.Allocate(n, c.EmbeddingLength);
            Q = b.Allocate(n, c.HeadCount * c.HeadDim);
            K = b.Allocate(n, c.KvHeadCount * c.HeadDim);
            V = b.Allocate(n, c.KvHeadCount * c.ValueHeadDim);
            Attended = b.Allocate(n, c.HeadCount * c.ValueHeadDim);
            Projected = b.Allocate(n, c.EmbeddingLength);
            FfnRows = Math.Min(n, MaxFfnRows);
            Gate = b.Allocate(FfnRows, c.FeedForwardLength);
            Up = b.Allocate(FfnRows, c.FeedForwardLength);
            FfnIn = n > FfnRows ? b.Allocate(FfnRows, c.EmbeddingLength) : Normed;
            FfnOut = n > FfnRows ? b.Allocate(FfnRows, c.EmbeddingLength) : Projected;
            LastLogits = b.Allocate(1, c.VocabSize);
        }

        public DeviceTensor X { get; }          // [n, embd] residual stream
        public DeviceTensor Normed { get; }     // [n, embd]
        public DeviceTensor Q { get; }          // [n, heads·headDim]
        public DeviceTensor K { get; }          // [n, kvHeads·headDim]
        public DeviceTensor V { get; }          // [n, kvHeads·valueDim]
        public DeviceTensor Attended { get; }   // [n, heads·valueDim]
        public DeviceTensor Projected { get; }  // [n, embd]
        /// <summary>Rows per feed-forward chunk: a multiple of 4 (llama.cpp's GEMM groups), 128 unless the batch is smaller.</summary>
        public const int MaxFfnRows = 128;

        public int FfnRows { get; }
        public DeviceTensor Gate { get; }       // [FfnRows, ff]
        public DeviceTensor Up { get; }         // [FfnRows, ff]
        public DeviceTensor FfnIn { get; }      // [FfnRows, embd] a chunk's normed rows (Normed itself if unchunked)
        public DeviceTensor FfnOut { get; }     // [FfnRows, embd] a chunk's output (Projected itself if unchunked)
        public DeviceTensor LastLogits { get; } // [1, vocab]

        public void Dispose()
        {
            foreach (var t in new[] { X, Normed, Q, K, V, Attended, Projected, Gate, Up, LastLogits }) t.Dispose();
            if (!ReferenceEquals(FfnIn, Normed)) FfnIn.Dispose();
            if (!ReferenceEquals(FfnOut, Projected)) FfnOut.Dispose();
        }
    }
}
