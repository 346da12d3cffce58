namespace ManagedKv.Model.Compression.Presses;

/// <summary>The baseline: keeps the full cache (no plan, ever).</summary>
public sealed class FullPress : IKvPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("full", "no compression: the full cache (baseline)", "-", [], _ => new FullPress())
    {
        UsesBudget = false,
    };

    /// <inheritdoc/>
    public string Name => "full";

    /// <inheritdoc/>
    public KvPlan? CompressPrefill(PressContext context) => null;
}
