using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests;

[TestClass]
public sealed class GoldenHelperTests
{
    [TestMethod]
    public void MismatchFailsAndWritesReceivedFile()
    {
        if (Environment.GetEnvironmentVariable(Golden.ApproveVariable) == "1") return;
        string name = "golden-helper-self-test";
        string received = Path.Combine(TestData.Directory, "testkit", name + ".received.txt");
        Assert.ThrowsExactly<AssertFailedException>(() => Golden.Verify("testkit", name, "something else"));
        Assert.IsTrue(File.Exists(received));
        File.Delete(received);
        Golden.Verify("testkit", name, "approved text\nsecond line");
    }
}
