using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ManagedKv.TestKit;

/// <summary>
/// Golden-file ("snapshot") assertions without Verify: the approved text lives in
/// <c>testdata/&lt;folder&gt;/&lt;name&gt;.verified.&lt;ext&gt;</c>. On a mismatch the actual text is written beside
/// it as <c>.received.&lt;ext&gt;</c> and the test fails with the first differing line. Setting
/// <c>MANAGEDKV_APPROVE=1</c> overwrites the verified file instead (re-approval).
/// </summary>
public static class Golden
{
    /// <summary>The environment variable that re-approves golden files.</summary>
    public const string ApproveVariable = "MANAGEDKV_APPROVE";

    /// <summary>Compares <paramref name="actual"/> with <c>testdata/{folder}/{name}.verified.{extension}</c>.</summary>
    public static void Verify(string folder, string name, string actual, string extension = "txt")
    {
        string dir = System.IO.Path.Combine(TestData.Directory, folder);
        string verified = System.IO.Path.Combine(dir, $"{name}.verified.{extension}");
        string received = System.IO.Path.Combine(dir, $"{name}.received.{extension}");
        string normalized = Normalize(actual);

        if (Environment.GetEnvironmentVariable(ApproveVariable) == "1")
        {
            System.IO.Directory.CreateDirectory(dir);
            File.WriteAllText(verified, normalized, new UTF8Encoding(false));
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        if (!File.Exists(verified))
        {
            System.IO.Directory.CreateDirectory(dir);
            File.WriteAllText(received, normalized, new UTF8Encoding(false));
            Assert.Fail($"no golden file {verified}; wrote {received}. Review it, then run with {ApproveVariable}=1 to approve.");
        }

        string expected = Normalize(File.ReadAllText(verified));
        if (expected == normalized)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }

        File.WriteAllText(received, normalized, new UTF8Encoding(false));
        Assert.Fail($"golden mismatch for {verified}: {FirstDifference(expected, normalized)}. Wrote {received}; run with {ApproveVariable}=1 to approve.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimEnd('\n') + "\n";

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "<end of file>";
            string al = i < a.Length ? a[i] : "<end of file>";
            if (el != al) return $"line {i + 1}: expected «{el}» but got «{al}»";
        }
        return "texts differ";
    }
}
