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
}
