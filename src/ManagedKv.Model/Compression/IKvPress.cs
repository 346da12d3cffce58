namespace ManagedKv.Model.Compression;

/// <summary>
/// A KV-cache compression method. It reads what it needs from a <see cref="PressContext"/> and returns a
/// plan for the layer (or null: nothing to do); the cache applies the plan. One file per method under
/// Presses/, one line in <see cref="PressRegistry"/>, one row in the shared press test matrix.
/// </summary>
public interface IKvPress
{
    /// <summary>Registry name, e.g. <c>streaming_llm</c>.</summary>
    string Name { get; }

    /// <summary>Plan for a layer whose prefill just finished.</summary>
    KvPlan? CompressPrefill(PressContext context);

    /// <summary>Plan for a layer after a decoded token was appended; null for prefill-only methods.</summary>
    KvPlan? CompressDecode(PressContext context) => null;

    /// <summary>
    /// Presses that score by attention ask for it here, before a forward call runs: the first position of the
    /// queries whose softmax probabilities the attention kernel should sum for <paramref name="layer"/> in the call
    /// over <paramref name="call"/> (e.g. <c>call.End − window</c>), or null for none (the default: the kernel runs
    /// its plain path). The sums reach the press as <see cref="PressContext.Statistics"/>.
    /// </summary>
    int? AttentionQueryStart(CompressionPhase phase, int layer, Inference.PositionRange call) => null;
}
