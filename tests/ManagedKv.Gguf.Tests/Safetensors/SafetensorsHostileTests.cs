using System.Buffers.Binary;
using System.Text;
using ManagedKv.Gguf.Safetensors;

namespace ManagedKv.Gguf.Tests.Safetensors;

/// <summary>Malformed safetensors must fail with <see cref="GgufFormatException"/> naming field and offset — nothing else.</summary>
[TestClass]
public sealed class SafetensorsHostileTests
{
    private static GgufFormatException Rejects(byte[] bytes)
    {
        var e = Assert.ThrowsExactly<GgufFormatException>(() => SafetensorsFile.FromBytes(bytes, "hostile").Dispose());
        Assert.AreEqual("hostile", e.FileName);
        return e;
    }

    private static GgufFormatException Rejects(string header, int dataLength) => Rejects(SafetensorsBytes.Make(header, dataLength));

    [TestMethod]
    public void ValidBaselineOpens()
    {
        using var f = SafetensorsFile.FromBytes(SafetensorsBytes.Make(SafetensorsBytes.OneTensor, 8));
        Assert.AreEqual(1, f.Tensors.Count);
    }

    [TestMethod]
    public void TruncationAtEveryOffsetIsAFormatError()
    {
        var writer = new SafetensorsWriter().AddF32("w", [1f, 2f, 3f, 4f, 5f, 6f], 2, 3).AddF16("b", [(Half)1, (Half)2], 2);
        writer.Metadata["format"] = "pt";
        byte[] full = writer.ToArray();
        using (SafetensorsFile.FromBytes(full)) { }
        for (int length = 0; length < full.Length; length++)
        {
            var e = Rejects(full[..length]);
            Assert.IsTrue(e.Offset >= 0 && e.Offset <= length + 8, $"length {length}: offset {e.Offset}");
        }
    }

    [TestMethod]
    public void RandomHeaderCorruptionNeverEscapesAsAnotherException()
    {
        byte[] good = new SafetensorsWriter().AddF32("w", [1f, 2f, 3f, 4f], 2, 2).AddBF16("b", [1f, 2f], 2).ToArray();
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        var rng = new Random(12345);
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] bytes = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int i = 0; i < flips; i++) bytes[rng.Next(headerEnd)] = (byte)rng.Next(256);
            try
            {
                using var f = SafetensorsFile.FromBytes(bytes);
                foreach (var t in f.Tensors)
                    if (t.Type is not null) _ = f.GetTensorView(t).Bytes.Length;
            }
            catch (GgufFormatException)
            {
            }
        }
    }

    [TestMethod]
    public void HeaderLengthBeyondCapIsRejectedWithoutAllocating()
    {
        var e = Rejects(SafetensorsBytes.Make(SafetensorsBytes.OneTensor, 8, declaredLength: ulong.MaxValue));
        Assert.AreEqual("header_length", e.Field);
        Assert.AreEqual(0, e.Offset);
        StringAssert.Contains(e.Problem, "limit");
        Rejects(SafetensorsBytes.Make(SafetensorsBytes.OneTensor, 8, declaredLength: (ulong)SafetensorsFile.MaxHeaderLength + 1));
    }

    [TestMethod]
    public void HeaderLengthPastEndOfFileIsRejected()
    {
        var e = Rejects(SafetensorsBytes.Make(SafetensorsBytes.OneTensor, 8, declaredLength: 1000));
        StringAssert.Contains(e.Problem, "past the end");
    }

    [TestMethod]
    [DataRow("not json at all")]
    [DataRow("[1,2,3]")]
    [DataRow("\"a string\"")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},}")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} x")]
    [DataRow("{/*c*/\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}")]
    [DataRow("")]
    public void HeaderThatIsNotAJsonObjectIsRejected(string header)
    {
        var e = Rejects(header, 8);
        Assert.IsTrue(e.Offset >= 8, $"offset {e.Offset} should point into the header");
    }

    [TestMethod]
    public void JsonErrorOffsetPointsAtTheBadByte()
    {
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]} ?}";
        var e = Rejects(header, 8);
        Assert.AreEqual(8 + header.IndexOf('?'), e.Offset);
    }

    [TestMethod]
    public void InvalidUtf8InHeaderIsRejected()
    {
        byte[] bytes = SafetensorsBytes.Make("{\"aX\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        bytes[8 + 3] = 0xFF;
        Rejects(bytes);
    }

    [TestMethod]
    public void DuplicateTensorNameIsRejectedAtTheSecondKey()
    {
        string header = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";
        var e = Rejects(header, 8);
        StringAssert.Contains(e.Problem, "duplicate");
        Assert.AreEqual(8 + header.LastIndexOf("\"a\"", StringComparison.Ordinal), e.Offset);
    }

    [TestMethod]
    [DataRow("""{"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}""")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}""")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"data_offsets":[0,8]}}""")]
    [DataRow("""{"__metadata__":{"k":"v","k":"w"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""")]
    [DataRow("""{"__metadata__":{},"__metadata__":{},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""")]
    public void DuplicateKeysAnywhereAreRejected(string header) => StringAssert.Contains(Rejects(header, 8).Problem, "duplicate");

    [TestMethod]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}""", "outside the data section")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "after end")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,18446744073709551615]}}""", "outside the data section")]
    [DataRow("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "needs 12")]
    [DataRow("""{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}""", "needs 4")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "overlap")]
    [DataRow("""{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "overlap")]
    [DataRow("""{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", "overflows")]
    [DataRow("""{"a":{"dtype":"F64","shape":[1152921504606846976],"data_offsets":[0,8]}}""", "overflows")]
    [DataRow("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "negative")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "not an integer")]
    [DataRow("""{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}""", "not an integer")]
    [DataRow("""{"a":{"dtype":"F32","shape":[1,1,1,1,2],"data_offsets":[0,8]}}""", "at most 4")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", "expected [begin, end]")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}""", "more than 2")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,8]}}""", "non-negative")]
    [DataRow("""{"a":{"dtype":"Q4_0","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype")]
    [DataRow("""{"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}""", "expected a string")]
    [DataRow("""{"a":{"shape":[2],"data_offsets":[0,8]}}""", "missing")]
    [DataRow("""{"a":{"dtype":"F32","data_offsets":[0,8]}}""", "missing")]
    [DataRow("""{"a":{"dtype":"F32","shape":[2]}}""", "missing")]
    [DataRow("""{"a":[1,2]}""", "expected an object")]
    [DataRow("""{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "expected a string")]
    [DataRow("""{"__metadata__":"x","a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "expected an object")]
    public void InconsistentEntriesAreRejected(string header, string problem)
    {
        var e = Rejects(header, 8);
        StringAssert.Contains(e.Problem, problem);
        Assert.IsTrue(e.Offset >= 8 && e.Offset < 8 + Encoding.UTF8.GetByteCount(header), $"offset {e.Offset} should point into the header");
    }

    [TestMethod]
    public void OffsetNamesTheEntryOfTheBadTensor()
    {
        string header = """{"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"bad":{"dtype":"F32","shape":[1],"data_offsets":[4,12]}}""";
        var e = Rejects(header, 8);
        Assert.AreEqual("header[\"bad\"].data_offsets", e.Field);
        Assert.AreEqual(8 + header.IndexOf("\"data_offsets\":[4", StringComparison.Ordinal), e.Offset);
        StringAssert.Contains(e.Message, "hostile");
    }

    [TestMethod]
    public void UnknownKeysAndEmptyTensorsAreTolerated()
    {
        string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":{"x":[1,2]}},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"__metadata__":null}   """;
        using var f = SafetensorsFile.FromBytes(SafetensorsBytes.Make(header, 8));
        Assert.AreEqual(2, f.Tensors.Count);
        Assert.AreEqual(0, f.GetTensorView("z").ByteSize);
    }

    [TestMethod]
    public void MissingFileIsFileNotFound() =>
        Assert.ThrowsExactly<FileNotFoundException>(() => SafetensorsFile.Open(Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid() + ".safetensors")));
}
