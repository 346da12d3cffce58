namespace ManagedKv.Gguf.Tests.Format;

/// <summary>
/// Opens untrusted bytes the way the hostile-input tests require: only <see cref="GgufFormatException"/> may
/// escape, allocation stays proportional to the input, and whatever opens is decoded in full (lazily decoded
/// arrays, tensor spans, rows) with only the documented type-mismatch exceptions tolerated.
/// </summary>
internal static class GgufProbe
{
    /// <summary>
    /// Allowed allocation while opening: this many bytes per input byte, plus <see cref="AllocationSlack"/>.
    /// The worst legitimate shape is millions of tiny metadata pairs: each ~15-byte pair needs a key string,
    /// a value, a list slot and a dictionary entry (~120 bytes, plus collection growth), measured at ~12×.
    /// </summary>
    public const long AllocationFactor = 16;

    public const long AllocationSlack = 1 << 20;

    /// <summary>Opens <paramref name="bytes"/>; returns the format error, or null after exercising a file that opened.</summary>
    public static GgufFormatException? Open(byte[] bytes, string name = "probe.gguf")
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        GgufFile file;
        try
        {
            file = GgufFile.FromBytes(bytes, name);
        }
        catch (GgufFormatException e)
        {
            CheckAllocation(before, bytes.Length);
            CheckError(e, name, bytes.Length);
            return e;
        }
        CheckAllocation(before, bytes.Length);
        using (file) Exercise(file);
        return null;
    }

    public static void CheckAllocation(long before, long inputLength)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long limit = inputLength * AllocationFactor + AllocationSlack;
        if (allocated > limit)
            Assert.Fail($"opening {inputLength} bytes allocated {allocated} bytes (limit {limit})");
    }

    /// <summary>The error names the file, a field and an offset inside the file (or -1).</summary>
    public static void CheckError(GgufFormatException e, string name, long fileLength)
    {
        Assert.AreEqual(name, e.FileName);
        Assert.IsFalse(string.IsNullOrWhiteSpace(e.Field), $"no field in: {e.Message}");
        Assert.IsTrue(e.Offset >= -1 && e.Offset <= fileLength, $"offset {e.Offset} outside [-1, {fileLength}]: {e.Message}");
        StringAssert.Contains(e.Message, name);
        StringAssert.Contains(e.Message, e.Field);
        Assert.IsNull(e.InnerException, e.Message);
    }

    /// <summary>Touches everything that is decoded lazily after opening.</summary>
    public static void Exercise(GgufFile file)
    {
        foreach (var (key, value) in file.MetadataInOrder)
        {
            Assert.AreSame(value, file.Metadata[key]);
            ExerciseValue(value);
        }
        foreach (var t in file.Tensors)
        {
            Assert.AreSame(t, file.FindTensor(t.Name));
            Assert.AreEqual(t.ByteSize, file.GetTensorBytes(t).Length);
            Assert.AreEqual(0, t.RelativeOffset % file.Alignment);
            Assert.IsTrue(t.FileOffset >= file.DataOffset && t.FileOffset + t.ByteSize <= file.FileSize);
            for (long row = 0; row < t.RowCount; row++)
                Assert.AreEqual(t.RowBytes, file.GetRowBytes(t, row).Length);
        }
    }

    public static void ExerciseValue(GgufValue value)
    {
        Assert.IsNotNull(value.ToString());
        Tolerate(() => value.AsDouble());
        Tolerate(() => value.AsInt64());
        Tolerate(() => value.AsInt32());
        Tolerate(() => value.AsBool());
        Tolerate(() => value.AsString());
        if (value.Type != GgufValueType.Array) return;
        var array = value.AsArray();
        Assert.IsNotNull(array.ToString());
        long count = 0;
        foreach (var element in array.Elements())
        {
            Assert.AreEqual(array.ElementType, element.Type);
            ExerciseValue(element);
            count++;
        }
        Assert.AreEqual(array.Count, count);
        Tolerate(() => Assert.AreEqual(array.Count, array.ToStringArray().LongLength));
        Tolerate(() => Assert.AreEqual(array.Count, array.ToSingleArray().LongLength));
        Tolerate(() => Assert.AreEqual(array.Count, array.ToInt32Array().LongLength));
        Tolerate(() => Assert.AreEqual(array.ByteLength, array.RawBytes().Length));
    }

    /// <summary>Runs an accessor, allowing only the documented type-mismatch/range exceptions.</summary>
    private static void Tolerate(Action accessor)
    {
        try
        {
            accessor();
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException)
        {
        }
    }
}
