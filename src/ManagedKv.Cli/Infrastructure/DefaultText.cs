namespace ManagedKv.Cli.Infrastructure;

/// <summary>
/// The built-in evaluation text: 16 original TinyStories-style children's stories written for this project
/// (testdata/golden/stories-text.txt, the text llama-perplexity's stories260K figures were measured on), so
/// <c>managedkv eval</c> needs no file.
/// </summary>
public static class DefaultText
{
    /// <summary>Name shown to users and recorded in result files.</summary>
    public const string DisplayName = "stories-text.txt (built-in)";

    private const string ResourceName = "ManagedKv.DefaultText.stories-text.txt";

    /// <summary>The text.</summary>
    public static string Read()
    {
        using var stream = typeof(DefaultText).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"resource {ResourceName} missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
