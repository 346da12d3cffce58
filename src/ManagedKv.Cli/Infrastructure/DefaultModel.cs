using System.Security.Cryptography;

namespace ManagedKv.Cli.Infrastructure;

/// <summary>
/// The embedded default model (stories260K, MIT). Commands use it when no <c>-m</c> is given: the
/// resource is written once to a cache file named by its hash, so it can be memory-mapped like any model.
/// </summary>
public static class DefaultModel
{
    /// <summary>Name shown to users.</summary>
    public const string DisplayName = "stories260K.gguf (embedded default)";

    private const string ResourceName = "ManagedKv.DefaultModel.stories260K.gguf";

    /// <summary>Path of a file holding the default model's bytes.</summary>
    public static string Path()
    {
        using var stream = typeof(DefaultModel).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"resource {ResourceName} missing from the build");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        string hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "managedkv");
        Directory.CreateDirectory(dir);
        string path = System.IO.Path.Combine(dir, $"stories260K-{hash}.gguf");
        if (!File.Exists(path) || new FileInfo(path).Length != bytes.Length)
        {
            string tmp = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, path, overwrite: true);
        }
        return path;
    }
}
