using System.Text;
using ManagedKv.Gguf;

namespace ManagedKv.Model.Tests.Tokenization;

/// <summary>Writes small tensor-less GGUF v3 images holding only metadata, to test tokenizer loading.</summary>
internal sealed class TestGguf
{
    private readonly List<(string Key, Action<BinaryWriter> Write)> _entries = [];

    public TestGguf String(string key, string value) => Add(key, w => { w.Write(8u); WriteString(w, value); });

    public TestGguf UInt32(string key, uint value) => Add(key, w => { w.Write(4u); w.Write(value); });

    public TestGguf Int32(string key, int value) => Add(key, w => { w.Write(5u); w.Write(value); });

    public TestGguf Bool(string key, bool value) => Add(key, w => { w.Write(7u); w.Write(value ? (byte)1 : (byte)0); });

    public TestGguf Strings(string key, IReadOnlyList<string> values) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(8u);
        w.Write((ulong)values.Count);
        foreach (string v in values) WriteString(w, v);
    });

    public TestGguf Floats(string key, IReadOnlyList<float> values) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(6u);
        w.Write((ulong)values.Count);
        foreach (float v in values) w.Write(v);
    });

    public TestGguf Ints(string key, IReadOnlyList<int> values) => Add(key, w =>
    {
        w.Write(9u);
        w.Write(5u);
        w.Write((ulong)values.Count);
        foreach (int v in values) w.Write(v);
    });

    /// <summary>A copy without one key.</summary>
    public TestGguf Without(string key)
    {
        var copy = new TestGguf();
        copy._entries.AddRange(_entries.Where(e => e.Key != key));
        return copy;
    }

    public GgufFile Open(string name = "test.gguf")
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(GgufFile.Magic);
            w.Write(3u);
            w.Write(0UL);                       // tensors
            w.Write((ulong)_entries.Count);
            foreach (var (key, write) in _entries)
            {
                WriteString(w, key);
                write(w);
            }
        }
        return GgufFile.FromBytes(stream.ToArray(), name);
    }

    private TestGguf Add(string key, Action<BinaryWriter> write)
    {
        _entries.RemoveAll(e => e.Key == key);
        _entries.Add((key, write));
        return this;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
