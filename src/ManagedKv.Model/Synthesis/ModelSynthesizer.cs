using ManagedKv.Gguf;
using ManagedKv.Model.Config;

namespace ManagedKv.Model.Synthesis;

/// <summary>
/// Writes random-weight GGUF models with the exact shapes (and, for a given mix, the exact tensor types and
/// file layout) of real models, for benchmarks and tests. It follows the recipe of the project's reference
/// files (golden README §3 and §10) to the bit:
/// <list type="bullet">
/// <item>values come from NumPy's <c>default_rng(seed).standard_normal(dtype=float32)</c>, reproduced by
/// <see cref="Pcg64"/> and <see cref="StandardNormal"/>, drawn tensor by tensor in the recipe's order
/// (token_embd, output_norm, output, then per block attn_norm, q, k, v, [q/k/v biases], attn_output, ffn_norm,
/// gate, up, down), each tensor row-major over its (out, in) shape;</item>
/// <item>a matrix with rows of length n is z/√n, a norm 1 + 0.05·z, a bias 0.5·z (see <see cref="WeightKind"/>);</item>
/// <item>asking for the recipe's own type (<see cref="SyntheticShape.SourceType"/>) writes that file as gguf-py
/// did: tensors in drawing order, <c>general.file_type</c> among the hyper-parameters. Any other type writes
/// what <c>llama-quantize SOURCE OUT TYPE</c> would: types chosen by <see cref="LlamaQuantMix"/>, data quantised
/// with <see cref="GgmlQuants.QuantizeRow"/> (from values rounded to F16 first when the source is F16), tensors in
/// llama.cpp's order, <c>general.quantization_version</c> and <c>general.file_type</c> moved to the end;</item>
/// <item>the tokenizer is copied from a GGUF file (stories260K's), padded to the vocabulary size.</item>
/// </list>
/// With the tiny presets and their default seeds the output is byte-identical to testdata/models/tiny-*.gguf.
/// </summary>
/// <remarks>
/// <para><b>Streaming.</b> Nothing the size of a tensor is held in memory. The random stream is inherently
/// sequential (the ziggurat uses a variable number of draws per sample), so writing runs it twice: a scan
/// records the generator state at the start of every chunk of rows (<see cref="ChunkElements"/> values,
/// whole rows), then each tensor's chunks are regenerated from those states, shaped and quantised in
/// parallel, and written in order. Chunk boundaries depend only on the tensor shapes, so the bytes do not
/// depend on the number of threads.</para>
/// </remarks>
public sealed class ModelSynthesizer
{
    /// <summary>Target number of values per chunk of rows (a chunk holds at least one row).</summary>
    public const int ChunkElements = 1 << 18;

    /// <summary>ggml's GGML_QNT_VERSION, which llama-quantize writes as <c>general.quantization_version</c>.</summary>
    public const uint QuantizationVersion = 2;

    private readonly List<KeyValuePair<string, GgufValue>> _tokenizer;
    private readonly SynthesizedTensor[] _drawOrder;
    private readonly bool _roundThroughF16;

    /// <summary>Plans a model; nothing is generated until it is written.</summary>
    /// <param name="shape">The model's shape.</param>
    /// <param name="fileType">The quantisation mix.</param>
    /// <param name="tokenizerSource">A GGUF file whose <c>tokenizer.ggml.*</c> keys are copied (e.g. stories260K.gguf).</param>
    /// <param name="seed">The NumPy seed; null for the shape's <see cref="SyntheticShape.DefaultSeed"/>.</param>
    /// <exception cref="ArgumentException">The shape is inconsistent, or a tensor cannot take the mix's types.</exception>
    /// <exception cref="GgufFormatException">The tokenizer source is unusable.</exception>
    public ModelSynthesizer(SyntheticShape shape, LlamaFileType fileType, string tokenizerSource, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerSource);
        if (shape.SourceType is not (GgmlType.F32 or GgmlType.F16))
            throw new ArgumentException($"shape {shape.Id}: the source type must be F32 or F16, not {shape.SourceType}", nameof(shape));
        _ = LlamaFileTypes.DefaultTensorType(fileType);   // rejects values outside the enum
        var config = shape.Config;
        ValidateShape(shape);

        Shape = shape;
        FileType = fileType;
        Seed = seed ?? shape.DefaultSeed;
        IsSourceLayout = fileType == (shape.SourceType == GgmlType.F16 ? LlamaFileType.F16 : LlamaFileType.F32);
        _roundThroughF16 = shape.SourceType == GgmlType.F16;
        _tokenizer = TokenizerMetadata.Read(tokenizerSource, config.VocabSize);

        var recipe = Recipe(config);
        GgmlType SourceTypeOf((string Name, long[] Dims, WeightKind Kind) t) => t.Kind == WeightKind.Matrix ? shape.SourceType : GgmlType.F32;
        var types = IsSourceLayout
            ? recipe.ToDictionary(t => t.Name, SourceTypeOf)
            : LlamaQuantMix.Choose(fileType, config, recipe.Select(t => new SourceTensor(t.Name, t.Dims, SourceTypeOf(t))));
        _drawOrder = recipe.Select((t, i) => new SynthesizedTensor(t.Name, t.Dims, types[t.Name], t.Kind, i)).ToArray();
        DataBytes = _drawOrder.Sum(t => t.ByteSize);
        ParameterCount = _drawOrder.Sum(t => t.ElementCount);
        Tensors = IsSourceLayout
            ? _drawOrder
            : _drawOrder.OrderBy(t => t.Name, Comparer<string>.Create(LlamaQuantMix.CompareTensorNames)).ToArray();
    }

    /// <summary>The model's shape.</summary>
    public SyntheticShape Shape { get; }

    /// <summary>The quantisation mix.</summary>
    public LlamaFileType FileType { get; }

    /// <summary>The NumPy seed of the random stream.</summary>
    public ulong Seed { get; }

    /// <summary>True when the file is the recipe's unquantised source as gguf-py wrote it, false when it is llama-quantize's output.</summary>
    public bool IsSourceLayout { get; }

    /// <summary>The tensors in file order, with their chosen types.</summary>
    public IReadOnlyList<SynthesizedTensor> Tensors { get; }

    /// <summary>Bytes of tensor data (without padding).</summary>
    public long DataBytes { get; }

    /// <summary>Number of weights.</summary>
    public long ParameterCount { get; }

    /// <summary>Threads used to generate and quantise chunks (the output does not depend on it).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Receives progress reports (from the writing thread).</summary>
    public IProgress<SynthesisProgress>? Progress { get; init; }

    /// <summary>Writes the model to <paramref name="path"/> (through a temporary file, renamed when complete).</summary>
    public void WriteTo(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Prepare(cancellationToken).WriteTo(path);
    }

    /// <summary>Writes the model to <paramref name="stream"/> from its current position.</summary>
    public void WriteTo(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Prepare(cancellationToken).WriteTo(stream);
    }

    /// <summary>The exact size of the file <see cref="WriteTo(string, CancellationToken)"/> writes, found without generating any data.</summary>
    public long MeasureFileSize()
    {
        var counter = new CountingStream();
        var zeros = new byte[1 << 20];
        CreateWriter(t => stream =>
        {
            for (long left = t.ByteSize; left > 0; left -= zeros.Length)
                stream.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        }).WriteTo(counter);
        return counter.Count;
    }

    // ---- layout ----

    /// <summary>Scans the random stream, then returns a writer whose tensor callbacks generate the data.</summary>
    private GgufWriter Prepare(CancellationToken cancellationToken)
    {
        var starts = Scan(cancellationToken);
        var work = new Workspace(this);
        return CreateWriter(t => stream => work.WriteTensor(t, starts[t.DrawIndex], stream, cancellationToken));
    }

    /// <summary>
    /// Rejects hyper-parameters the recipe's metadata cannot express: the file records no head_dim, value
    /// length or rope scaling, so a reader derives head_dim = n_embd / heads and assumes the rest.
    /// </summary>
    private static void ValidateShape(SyntheticShape shape)
    {
        var c = shape.Config;
        string? problem =
            c.HeadCount <= 0 || c.KvHeadCount <= 0 || c.HeadCount % c.KvHeadCount != 0 ? $"{c.KvHeadCount} KV heads must divide {c.HeadCount} heads"
            : c.HeadDim * c.HeadCount != c.EmbeddingLength ? $"head_dim {c.HeadDim} × {c.HeadCount} heads must equal n_embd {c.EmbeddingLength}"
            : c.ValueHeadDim != c.HeadDim ? $"value head_dim {c.ValueHeadDim} must equal head_dim {c.HeadDim}"
            : c.RopeScaling != RopeScaling.None || c.HasRopeFrequencyFactors ? "rope scaling cannot be synthesised"
            : c.RopeStyle != c.Info.GgufRopeStyle ? $"{c.Architecture} GGUF files use {c.Info.GgufRopeStyle} rope, not {c.RopeStyle}"
            : c.VocabSize <= 0 || c.BlockCount <= 0 || c.FeedForwardLength <= 0 || c.ContextLength <= 0 ? "sizes must be positive"
            : null;
        if (problem is not null) throw new ArgumentException($"shape {shape.Id}: {problem}", nameof(shape));
    }

    private GgufWriter CreateWriter(Func<SynthesizedTensor, Action<Stream>> data)
    {
        var config = Shape.Config;
        var arch = config.Info;
        var writer = new GgufWriter();
        // Key order and types of gguf-py's GGUFWriter as the recipe used it.
        writer.AddMetadata("general.architecture", GgufValue.FromString(arch.GgufArchitecture));
        writer.AddMetadata("general.name", GgufValue.FromString(config.Name));
        writer.AddMetadata(arch.GgufKey("context_length"), GgufValue.From((uint)config.ContextLength));
        writer.AddMetadata(arch.GgufKey("embedding_length"), GgufValue.From((uint)config.EmbeddingLength));
        writer.AddMetadata(arch.GgufKey("block_count"), GgufValue.From((uint)config.BlockCount));
        writer.AddMetadata(arch.GgufKey("feed_forward_length"), GgufValue.From((uint)config.FeedForwardLength));
        writer.AddMetadata(arch.GgufKey("attention.head_count"), GgufValue.From((uint)config.HeadCount));
        writer.AddMetadata(arch.GgufKey("attention.head_count_kv"), GgufValue.From((uint)config.KvHeadCount));
        writer.AddMetadata(arch.GgufKey("rope.dimension_count"), GgufValue.From((uint)config.RopeDimensionCount));
        writer.AddMetadata(arch.GgufKey("rope.freq_base"), GgufValue.From(config.RopeFreqBase));
        writer.AddMetadata(arch.GgufKey("attention.layer_norm_rms_epsilon"), GgufValue.From(config.RmsNormEps));
        writer.AddMetadata(arch.GgufKey("vocab_size"), GgufValue.From((uint)config.VocabSize));
        if (IsSourceLayout) writer.AddMetadata("general.file_type", GgufValue.From((uint)FileType));
        foreach (var (key, value) in _tokenizer) writer.AddMetadata(key, value);
        if (!IsSourceLayout)
        {
            // llama-quantize copies the source's keys, then sets these two; setting a key moves it to the end.
            writer.AddMetadata("general.quantization_version", GgufValue.From(QuantizationVersion));
            writer.AddMetadata("general.file_type", GgufValue.From((uint)FileType));
        }
        foreach (var t in Tensors) writer.AddTensor(t.Name, t.Type, t.Dimensions, data(t));
        return writer;
    }

    /// <summary>The tensors in drawing order (gguf-py's file order in the recipe).</summary>
    private static List<(string Name, long[] Dims, WeightKind Kind)> Recipe(ModelConfig c)
    {
        long embd = c.EmbeddingLength, q = c.QueryLength, kv = c.KeyLength, ff = c.FeedForwardLength;
        var list = new List<(string, long[], WeightKind)>
        {
            ("token_embd.weight", [embd, c.VocabSize], WeightKind.Matrix),
            ("output_norm.weight", [embd], WeightKind.Norm),
        };
        if (!c.TiedEmbeddings) list.Add(("output.weight", [embd, c.VocabSize], WeightKind.Matrix));
        for (int b = 0; b < c.BlockCount; b++)
        {
            string p = $"blk.{b}.";
            list.Add((p + "attn_norm.weight", [embd], WeightKind.Norm));
            list.Add((p + "attn_q.weight", [embd, q], WeightKind.Matrix));
            list.Add((p + "attn_k.weight", [embd, kv], WeightKind.Matrix));
            list.Add((p + "attn_v.weight", [embd, c.ValueLength], WeightKind.Matrix));
            if (c.HasQkvBias)
            {
                list.Add((p + "attn_q.bias", [q], WeightKind.Bias));
                list.Add((p + "attn_k.bias", [kv], WeightKind.Bias));
                list.Add((p + "attn_v.bias", [c.ValueLength], WeightKind.Bias));
            }
            list.Add((p + "attn_output.weight", [q, embd], WeightKind.Matrix));
            list.Add((p + "ffn_norm.weight", [embd], WeightKind.Norm));
            list.Add((p + "ffn_gate.weight", [embd, ff], WeightKind.Matrix));
            list.Add((p + "ffn_up.weight", [embd, ff], WeightKind.Matrix));
            list.Add((p + "ffn_down.weight", [ff, embd], WeightKind.Matrix));
        }
        return list;
    }

    // ---- generation ----

    private static int RowsPerChunk(SynthesizedTensor t) => (int)Math.Max(1, Math.Min(t.RowCount, ChunkElements / t.RowLength));

    private static int ChunkCount(SynthesizedTensor t) => (int)((t.RowCount + RowsPerChunk(t) - 1) / RowsPerChunk(t));

    /// <summary>Runs the random stream once, recording its state at the start of every chunk of every tensor.</summary>
    private Pcg64[][] Scan(CancellationToken cancellationToken)
    {
        var rng = Pcg64.FromSeed(Seed);
        var starts = new Pcg64[_drawOrder.Length][];
        long total = ParameterCount, done = 0;
        Progress?.Report(new(SynthesisPhase.Scanning, 0, total));
        foreach (var t in _drawOrder)
        {
            int rowsPerChunk = RowsPerChunk(t), chunks = ChunkCount(t);
            starts[t.DrawIndex] = new Pcg64[chunks];
            for (int c = 0; c < chunks; c++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                starts[t.DrawIndex][c] = rng;
                long values = Math.Min(rowsPerChunk, t.RowCount - (long)c * rowsPerChunk) * t.RowLength;
                StandardNormal.Skip(ref rng, values);
                done += values;
            }
            Progress?.Report(new(SynthesisPhase.Scanning, done, total));
        }
        return starts;
    }

    /// <summary>Per-write buffers: one float and one byte buffer per chunk slot of a window.</summary>
    private sealed class Workspace
    {
        private readonly ModelSynthesizer _owner;
        private readonly int _degree;
        private readonly float[][] _values;   // [window][≤ max chunk values]
        private readonly byte[][] _bytes;     // [window][≤ max chunk bytes]
        private long _written;

        public Workspace(ModelSynthesizer owner)
        {
            _owner = owner;
            _degree = Math.Max(1, owner.MaxDegreeOfParallelism);
            int window = 2 * _degree;
            long maxValues = owner._drawOrder.Max(t => RowsPerChunk(t) * t.RowLength);
            long maxBytes = owner._drawOrder.Max(t => RowsPerChunk(t) * GgmlTypeInfo.Get(t.Type).RowBytes(t.RowLength));
            _values = Enumerable.Range(0, window).Select(_ => new float[maxValues]).ToArray();
            _bytes = Enumerable.Range(0, window).Select(_ => new byte[maxBytes]).ToArray();
            owner.Progress?.Report(new(SynthesisPhase.Writing, 0, owner.DataBytes));
        }

        /// <summary>Generates, shapes, quantises and writes one tensor, a window of chunks at a time.</summary>
        public void WriteTensor(SynthesizedTensor t, Pcg64[] starts, Stream output, CancellationToken cancellationToken)
        {
            int rowsPerChunk = RowsPerChunk(t);
            long rowBytes = GgmlTypeInfo.Get(t.Type).RowBytes(t.RowLength);
            var options = new ParallelOptions { MaxDegreeOfParallelism = _degree, CancellationToken = cancellationToken };
            for (int first = 0; first < starts.Length; first += _values.Length)
            {
                int count = Math.Min(_values.Length, starts.Length - first);
                Parallel.For(0, count, options, slot => Produce(t, starts[first + slot], first + slot, rowsPerChunk, _values[slot], _bytes[slot]));
                for (int slot = 0; slot < count; slot++)
                {
                    long rows = Math.Min(rowsPerChunk, t.RowCount - (long)(first + slot) * rowsPerChunk);
                    output.Write(_bytes[slot], 0, (int)(rows * rowBytes));
                    _written += rows * rowBytes;
                }
                _owner.Progress?.Report(new(SynthesisPhase.Writing, _written, _owner.DataBytes));
            }
        }

        private void Produce(SynthesizedTensor t, Pcg64 rng, int chunk, int rowsPerChunk, float[] valueBuffer, byte[] byteBuffer)
        {
            long rows = Math.Min(rowsPerChunk, t.RowCount - (long)chunk * rowsPerChunk);
            var values = valueBuffer.AsSpan(0, (int)(rows * t.RowLength));
            StandardNormal.Fill(ref rng, values);
            switch (t.Kind)
            {
                case WeightKind.Matrix:
                    // NumPy divides the float32 draws by the float64 scalar sqrt(in), which it casts to float32 first.
                    float scale = (float)Math.Sqrt(t.RowLength);
                    for (int i = 0; i < values.Length; i++) values[i] /= scale;
                    if (_owner._roundThroughF16)
                        for (int i = 0; i < values.Length; i++) values[i] = Fp16.Round(values[i]);
                    break;
                case WeightKind.Norm:
                    for (int i = 0; i < values.Length; i++) values[i] = 1f + 0.05f * values[i];
                    break;
                case WeightKind.Bias:
                    for (int i = 0; i < values.Length; i++) values[i] = 0.5f * values[i];
                    break;
            }
            GgmlQuants.QuantizeRow(t.Type, values, byteBuffer.AsSpan(0, (int)(rows * GgmlTypeInfo.Get(t.Type).RowBytes(t.RowLength))));
        }
    }
}
