using ManagedKv.Model.Compression.Presses;

namespace ManagedKv.Model.Compression;

/// <summary>Every press by name. Adding a method: one file under Presses/ and one line here.</summary>
public static class PressRegistry
{
    /// <summary>All registered presses, in listing order.</summary>
    public static IReadOnlyList<PressDescriptor> All { get; } =
    [
        FullPress.Descriptor,
        RandomPress.Descriptor,
        StreamingLlmPress.Descriptor,
        KnormPress.Descriptor,
        H2OPress.Descriptor,
        SnapKvPress.Descriptor,
        PyramidKvPress.Descriptor,
        TovaPress.Descriptor,
        LagKvPress.Descriptor,
        MiniCachePress.Descriptor,
        KiviPress.Descriptor,
    ];

    /// <summary>The press named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No press has that name.</exception>
    public static PressDescriptor Get(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? throw new ArgumentException($"unknown press '{name}' (presses: {string.Join(", ", All.Select(d => d.Name))})");
}
