namespace ManagedKv.Model.Compression;

/// <summary>One parameter of a press: name, type, default (as text) and meaning.</summary>
public sealed record PressParameter(string Name, string Type, string Default, string Description);

/// <summary>A registered press: what <c>managedkv presses</c> lists and how to create it.</summary>
/// <param name="Name">Registry name (<c>--press NAME</c>).</param>
/// <param name="Summary">One line.</param>
/// <param name="Paper">The paper (title, venue/arXiv id).</param>
/// <param name="Parameters">Method-specific parameters.</param>
/// <param name="Factory">Creates the press from validated arguments.</param>
public sealed record PressDescriptor(string Name, string Summary, string Paper, IReadOnlyList<PressParameter> Parameters,
    Func<PressArguments, IKvPress> Factory)
{
    /// <summary>
    /// Whether the press reads the compression ratio / token budget. Quantising presses (KIVI) remove no tokens and
    /// ignore it; the cache's byte count then reports their effective ratio.
    /// </summary>
    public bool UsesBudget { get; init; } = true;

    /// <summary>Creates the press with a budget and <c>name=value</c> arguments.</summary>
    public IKvPress Create(CompressionBudget budget, IReadOnlyDictionary<string, string>? arguments = null)
    {
        budget.Validate();
        return Factory(new PressArguments(this, budget, arguments ?? new Dictionary<string, string>()));
    }
}
