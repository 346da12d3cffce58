namespace ManagedKv.TestKit;

/// <summary>Locates the repository's <c>testdata/</c> folder from a test's output directory.</summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>Absolute path of the repository's <c>testdata/</c> folder.</summary>
    public static string Directory => Root.Value;

    /// <summary>Absolute path of a file under <c>testdata/</c>; fails the test if it is missing.</summary>
    public static string Path(params string[] parts)
    {
        string path = System.IO.Path.Combine([Directory, .. parts]);
        if (!File.Exists(path) && !System.IO.Directory.Exists(path))
            throw new FileNotFoundException($"test data '{System.IO.Path.Combine(parts)}' is missing under {Directory}", path);
        return path;
    }

    /// <summary>A fresh empty scratch directory, unique per call.</summary>
    public static string ScratchDirectory(string purpose)
    {
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "managedkv-tests", purpose + "-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        // Walk up from bin/<cfg>/<tfm>/ until a folder holding testdata/ and ManagedKv.sln appears.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "testdata");
            if (System.IO.Directory.Exists(candidate) && File.Exists(System.IO.Path.Combine(dir.FullName, "ManagedKv.sln")))
                return candidate;
        }
        throw new DirectoryNotFoundException($"no testdata/ folder above {AppContext.BaseDirectory}");
    }
}
