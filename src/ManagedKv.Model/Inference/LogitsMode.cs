namespace ManagedKv.Model.Inference;

/// <summary>Which positions of a forward call produce logits.</summary>
public enum LogitsMode
{
    /// <summary>No logits (prefill of a prefix whose predictions are not needed).</summary>
    None,
    /// <summary>Only the last token's logits (generation).</summary>
    Last,
    /// <summary>Every token's logits (perplexity, teacher-forced scoring).</summary>
    All,
}
