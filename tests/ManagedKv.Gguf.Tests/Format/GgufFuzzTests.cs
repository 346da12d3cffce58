using ManagedKv.TestKit;

namespace ManagedKv.Gguf.Tests.Format;

/// <summary>
/// Seeded random byte flips: every mutant either opens (and then decodes completely) or fails with a located
/// <see cref="GgufFormatException"/>; allocation stays proportional to the file (see <see cref="GgufProbe"/>).
/// </summary>
[TestClass]
public sealed class GgufFuzzTests
{
    [TestMethod]
    public void SampleWithRandomFlips() => Fuzz(SampleGguf.Bytes(), "sample.gguf", cases: 3000, seed: 20240601, headerBias: 0.9);

    [TestMethod]
    public void SampleWithAlignment1WithRandomFlips() => Fuzz(SampleGguf.Bytes(1), "sample-a1.gguf", cases: 1000, seed: 7, headerBias: 0.9);

    [TestMethod]
    public void Stories260KWithRandomFlips() =>
        Fuzz(File.ReadAllBytes(TestData.Path("stories260K.gguf")), "stories260K.gguf", cases: 1000, seed: 260, headerBias: 0.97);

    private static void Fuzz(byte[] bytes, string name, int cases, int seed, double headerBias)
    {
        long headerEnd;
        using (var f = GgufFile.FromBytes(bytes)) headerEnd = f.DataOffset;
        var random = new Random(seed);
        int opened = 0, failed = 0;
        Span<int> positions = stackalloc int[4];
        Span<byte> saved = stackalloc byte[4];
        for (int i = 0; i < cases; i++)
        {
            int flips = random.Next(1, 5);
            for (int k = 0; k < flips; k++)
            {
                // Mostly the header (counts, lengths, types, dims, offsets); sometimes anywhere.
                positions[k] = random.NextDouble() < headerBias ? random.Next((int)headerEnd) : random.Next(bytes.Length);
                saved[k] = bytes[positions[k]];
            }
            for (int k = 0; k < flips; k++)
            {
                // Half random bytes, half single-bit flips (a bit flip in a length field is the nastier mutant).
                bytes[positions[k]] = random.Next(2) == 0 ? (byte)random.Next(256) : (byte)(bytes[positions[k]] ^ (1 << random.Next(8)));
            }
            try
            {
                if (GgufProbe.Open(bytes, name) is null) opened++;
                else failed++;
            }
            catch (Exception e)
            {
                // Name the mutant so a failure can be replayed from the seed.
                string mutant = $"case {i} (seed {seed}, flipped offsets {string.Join(",", positions[..flips].ToArray())})";
                Assert.Fail(e is AssertFailedException ? $"{mutant}: {e.Message}" : $"{mutant}: {e.GetType().Name}: {e}");
            }
            for (int k = flips - 1; k >= 0; k--) bytes[positions[k]] = saved[k];
        }
        // Both outcomes must be common, or the mutants are not probing anything.
        Assert.IsTrue(opened > cases / 20 && failed > cases / 20, $"opened {opened}, failed {failed}");
    }
}
