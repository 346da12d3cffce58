using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Inference;

/// <summary>
/// One sequence being generated: a model, its KV cache and the latest logits. <see cref="Prefill"/> runs a
/// prompt in micro-batches; <see cref="Decode"/> runs one token. Neither allocates once warm.
/// </summary>
public sealed class Session
{
    private readonly float[] _logits;   // [vocab] logits of the last processed token
    private readonly int[] _one = new int[1];

    /// <summary>Starts an empty session.</summary>
    public Session(Transformer model, KvStorageType storage = KvStorageType.F32)
    {
        Model = model;
        Cache = model.CreateCache(storage);
        _logits = new float[model.VocabSize];
    }

    /// <summary>The model.</summary>
    public Transformer Model { get; }

    /// <summary>This sequence's cache.</summary>
    public KvCache Cache { get; }

    /// <summary>Compression presses run after each layer's prefill and each decode step (null: full cache).</summary>
    public Compression.PressRunner? Compression { get; set; }

    /// <summary>Tokens processed so far (the next position).</summary>
    public int Position => Cache.SequenceLength;

    /// <summary>Logits after the last call, [vocab].</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>Processes <paramref name="tokens"/> and returns the logits of the last one.</summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (Compression is not null) Compression.Phase = ManagedKv.Model.Compression.CompressionPhase.Prefill;
        Model.Forward(tokens, Cache, LogitsMode.Last, _logits, Compression);
        return _logits;
    }

    /// <summary>Processes one token and returns its logits.</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        _one[0] = token;
        if (Compression is not null) Compression.Phase = ManagedKv.Model.Compression.CompressionPhase.Decode;
        Model.Forward(_one, Cache, LogitsMode.Last, _logits, Compression);
        return _logits;
    }

    /// <summary>Forgets every token.</summary>
    public void Reset() => Cache.Clear();
}
