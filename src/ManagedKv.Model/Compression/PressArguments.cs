using System.Globalization;

namespace ManagedKv.Model.Compression;

/// <summary>
/// Settings a press is created from: the shared budget and the method's own typed parameters
/// (<c>--press-arg name=value</c>). Unknown names and unparsable values are rejected with a message that
/// lists what the press accepts.
/// </summary>
public sealed class PressArguments
{
    private readonly IReadOnlyDictionary<string, string> _values;
    private readonly PressDescriptor _descriptor;

    internal PressArguments(PressDescriptor descriptor, CompressionBudget budget, IReadOnlyDictionary<string, string> values)
    {
        _descriptor = descriptor;
        _values = values;
        foreach (string key in values.Keys)
            if (!descriptor.Parameters.Any(p => p.Name == key))
                throw new ArgumentException($"press '{descriptor.Name}' has no parameter '{key}' (parameters: {string.Join(", ", descriptor.Parameters.Select(p => p.Name))})");
        // Scorer presses list the shared budget parameters (ScorerPress.HeadBudgetParameters, LayerBudgetParameters):
        // part of the budget.
        bool heads = Declares("head_budget"), layers = Declares("layer_compression");
        if (heads || layers)
        {
            if (heads)
                budget = budget with
                {
                    HeadBudget = Choice("head_budget", "uniform", "adaptive") == "adaptive" ? HeadBudget.Adaptive : HeadBudget.Uniform,
                    AlphaSafeguard = Double("alpha_safeguard"),
                };
            if (layers && Parse("layer_compression", ParseList) is { } ratios) budget = budget with { LayerCompression = ratios };
            try
            {
                budget.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"press '{descriptor.Name}': {e.Message}", e);
            }
        }
        Budget = budget;
    }

    /// <summary>
    /// The shared budget (compression ratio or token budget), with the head split (<c>head_budget</c>,
    /// <c>alpha_safeguard</c>) for presses that list those parameters.
    /// </summary>
    public CompressionBudget Budget { get; }

    /// <summary>An integer parameter (its default when not given).</summary>
    public int Int(string name) => Parse(name, s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture));

    /// <summary>A floating-point parameter.</summary>
    public double Double(string name) => Parse(name, s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));

    /// <summary>A boolean parameter (true/false/1/0).</summary>
    public bool Bool(string name) => Parse(name, s => s switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException("expected true or false"),
    });

    /// <summary>A parameter whose value is one of <paramref name="choices"/> (e.g. a method variant).</summary>
    public string Choice(string name, params string[] choices) => Parse(name, s =>
        choices.Contains(s) ? s : throw new FormatException($"expected one of {string.Join(", ", choices)}"));

    private bool Declares(string name) => _descriptor.Parameters.Any(p => p.Name == name);

    /// <summary>A comma-separated list of numbers; empty text: none (null).</summary>
    private static double[]? ParseList(string text) => text.Length == 0
        ? null
        : text.Split(',').Select(s => double.Parse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();

    private T Parse<T>(string name, Func<string, T> parse)
    {
        var parameter = _descriptor.Parameters.FirstOrDefault(p => p.Name == name)
            ?? throw new InvalidOperationException($"press '{_descriptor.Name}' reads undeclared parameter '{name}'");
        string text = _values.TryGetValue(name, out var v) ? v : parameter.Default;
        try
        {
            return parse(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"press '{_descriptor.Name}' parameter '{name}' = '{text}': {e.Message}");
        }
    }
}
