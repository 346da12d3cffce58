namespace ManagedKv.Model.Evaluation.Results;

/// <summary>
/// Everything that determines an evaluation's cells. A result file is resumed only when its settings equal the
/// new run's; nothing that varies between identical runs (timestamps, timings, temporary paths) belongs here.
/// </summary>
/// <param name="Kind">fidelity, passkey or needle.</param>
/// <param name="ToolVersion">Version of the tool that wrote the file.</param>
/// <param name="Model">The model as the user named it (path, or the embedded default's name).</param>
/// <param name="ModelSha256">SHA-256 of the model's bytes (<see cref="ModelFingerprint"/>).</param>
/// <param name="Backend">Backend name and thread count (results are reproducible for a given pair).</param>
/// <param name="Seed">Seed of every random choice (passkeys, seeded presses).</param>
/// <param name="Presses">Every press setting, in run order, with all parameter values.</param>
/// <param name="Parameters">The kind's own settings (window sizes, grid, text hash…), sorted by name.</param>
public sealed record EvalSettings(string Kind, string ToolVersion, string Model, string ModelSha256, string Backend, int Seed,
    IReadOnlyList<PressSettings> Presses, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>Press settings for <paramref name="configurations"/>.</summary>
    public static IReadOnlyList<PressSettings> Describe(IEnumerable<PressConfiguration> configurations) =>
        configurations.Select(c => new PressSettings(c.Key, c.Name, c.Compression, c.ParameterValues())).ToList();
}

/// <summary>One press setting as recorded in a result file.</summary>
/// <param name="Key">The setting's key (<see cref="PressConfiguration.Key"/>).</param>
/// <param name="Press">Press or composition name.</param>
/// <param name="Compression">Requested ratio (null: the presses ignore it).</param>
/// <param name="Parameters">Per press, every parameter's value.</param>
public sealed record PressSettings(string Key, string Press, double? Compression,
    IReadOnlyDictionary<string, SortedDictionary<string, string>> Parameters);
