using System.Security.Cryptography;
using System.Text;

namespace ManagedKv.Model.Evaluation.Results;

/// <summary>SHA-256 identities of models and texts recorded in result files.</summary>
public static class ModelFingerprint
{
    /// <summary>
    /// SHA-256 (lowercase hex) of a model file, or for a Hugging Face folder, of the listing "name sha256" of its
    /// files (sorted by ordinal name), so renaming nothing and changing any byte changes the identity.
    /// </summary>
    public static string Sha256(string path)
    {
        if (File.Exists(path)) return FileSha256(path);
        if (!Directory.Exists(path)) throw new FileNotFoundException($"model not found: {path}", path);
        var listing = new StringBuilder();
        foreach (string file in Directory.GetFiles(path).OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal))
            listing.Append(Path.GetFileName(file)).Append(' ').Append(FileSha256(file)).Append('\n');
        return TextSha256(listing.ToString());
    }

    /// <summary>SHA-256 (lowercase hex) of a text's UTF-8 bytes.</summary>
    public static string TextSha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
