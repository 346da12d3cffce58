using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// Reads a safetensors JSON header with <see cref="Utf8JsonReader"/> straight from the mapped bytes, so
/// that every error can name the byte offset of the offending token (8 + its position in the header)
/// and so that duplicate keys, which a dictionary-based parse would silently merge, are caught.
/// It checks the header's structure only; byte ranges are checked by <see cref="SafetensorsFile"/>.
/// </summary>
internal ref struct SafetensorsHeaderParser
{
    /// <summary>The header's reserved key for free-form string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    private readonly string _file;
    private readonly long _base;          // file offset of the header's first byte (8)
    private readonly ReadOnlySpan<byte> _header;
    private Utf8JsonReader _reader;

    public SafetensorsHeaderParser(ReadOnlySpan<byte> header, string file, long baseOffset)
    {
        _file = file;
        _base = baseOffset;
        _header = header;
        _reader = new Utf8JsonReader(header, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = 16,
        });
    }

    /// <summary>A parsed tensor entry; the dtype, shape and offsets are unchecked beyond their JSON types.</summary>
    public readonly record struct Entry(string Name, string DType, long DTypeAt, long[] Shape, long ShapeAt, ulong Begin, ulong End, long OffsetsAt, long EntryAt);

    public void Parse(List<Entry> entries, Dictionary<string, string> metadata)
    {
        try
        {
            ParseRoot(entries, metadata);
        }
        catch (JsonException e)
        {
            long at = HfJson.OffsetOf(_header, e);
            throw new GgufFormatException(_file, "header", _base + (at >= 0 ? at : _reader.BytesConsumed), "header is not valid JSON: " + HfJson.TrimLocation(e.Message), e);
        }
        catch (InvalidOperationException e)
        {
            // GetString() on invalid UTF-8 or a malformed escape.
            throw new GgufFormatException(_file, "header", _base + _reader.TokenStartIndex, "header holds an invalid string: " + e.Message, e);
        }
    }

    private void ParseRoot(List<Entry> entries, Dictionary<string, string> metadata)
    {
        if (!_reader.Read()) throw Error("header", "header is empty; expected a JSON object");
        if (_reader.TokenType != JsonTokenType.StartObject) throw Error("header", $"header starts with {_reader.TokenType}, expected a JSON object");
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        while (Next() != JsonTokenType.EndObject)
        {
            long keyAt = At;
            string name = _reader.GetString()!;
            if (name == MetadataKey)
            {
                if (sawMetadata) throw Error(MetadataKey, "duplicate key", keyAt);
                sawMetadata = true;
                ParseMetadata(metadata);
                continue;
            }
            if (!names.Add(name)) throw Error($"header[\"{name}\"]", "duplicate tensor name", keyAt);
            entries.Add(ParseEntry(name, keyAt));
        }
        // Only whitespace (the format pads with spaces) may follow the root object.
        if (_reader.Read()) throw Error("header", $"unexpected {_reader.TokenType} after the header object");
    }

    private void ParseMetadata(Dictionary<string, string> metadata)
    {
        var t = Next();
        if (t == JsonTokenType.Null) return;
        if (t != JsonTokenType.StartObject) throw Error(MetadataKey, $"is {t}, expected an object of strings");
        while (Next() != JsonTokenType.EndObject)
        {
            long keyAt = At;
            string key = _reader.GetString()!;
            if (Next() != JsonTokenType.String) throw Error($"{MetadataKey}[\"{key}\"]", $"is {_reader.TokenType}, expected a string");
            if (!metadata.TryAdd(key, _reader.GetString()!)) throw Error($"{MetadataKey}[\"{key}\"]", "duplicate metadata key", keyAt);
        }
    }

    private Entry ParseEntry(string name, long entryAt)
    {
        string field = $"header[\"{name}\"]";
        if (Next() != JsonTokenType.StartObject) throw Error(field, $"is {_reader.TokenType}, expected an object with dtype, shape and data_offsets");
        string? dtype = null;
        long[]? shape = null;
        ulong begin = 0, end = 0;
        bool sawOffsets = false;
        long dtypeAt = -1, shapeAt = -1, offsetsAt = -1;
        while (Next() != JsonTokenType.EndObject)
        {
            long keyAt = At;
            string key = _reader.GetString()!;
            switch (key)
            {
                case "dtype":
                    if (dtype is not null) throw Error(field + ".dtype", "duplicate key", keyAt);
                    dtypeAt = keyAt;
                    if (Next() != JsonTokenType.String) throw Error(field + ".dtype", $"is {_reader.TokenType}, expected a string");
                    dtype = _reader.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw Error(field + ".shape", "duplicate key", keyAt);
                    shapeAt = keyAt;
                    shape = ParseShape(field + ".shape");
                    break;
                case "data_offsets":
                    if (sawOffsets) throw Error(field + ".data_offsets", "duplicate key", keyAt);
                    sawOffsets = true;
                    offsetsAt = keyAt;
                    (begin, end) = ParseOffsets(field + ".data_offsets");
                    break;
                default:
                    // Unknown keys are tolerated (forward compatibility) but must still be valid JSON.
                    Next();
                    _reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw Error(field + ".dtype", "required key is missing", entryAt);
        if (shape is null) throw Error(field + ".shape", "required key is missing", entryAt);
        if (!sawOffsets) throw Error(field + ".data_offsets", "required key is missing", entryAt);
        return new Entry(name, dtype, dtypeAt, shape, shapeAt, begin, end, offsetsAt, entryAt);
    }

    private long[] ParseShape(string field)
    {
        if (Next() != JsonTokenType.StartArray) throw Error(field, $"is {_reader.TokenType}, expected an array of integers");
        var dims = new List<long>(4);
        while (Next() != JsonTokenType.EndArray)
        {
            string f = $"{field}[{dims.Count}]";
            if (_reader.TokenType != JsonTokenType.Number || !_reader.TryGetInt64(out long d))
                throw Error(f, $"{Token()} is not an integer");
            if (d < 0) throw Error(f, $"dimension {d} is negative");
            if (dims.Count == GgufFile.MaxDimensions)
                throw Error(field, $"more than {GgufFile.MaxDimensions} dimensions; ManagedKv's tensor views (ggml layout) support at most {GgufFile.MaxDimensions}");
            dims.Add(d);
        }
        return dims.ToArray();
    }

    private (ulong Begin, ulong End) ParseOffsets(string field)
    {
        if (Next() != JsonTokenType.StartArray) throw Error(field, $"is {_reader.TokenType}, expected [begin, end]");
        Span<ulong> values = stackalloc ulong[2];
        int n = 0;
        while (Next() != JsonTokenType.EndArray)
        {
            if (n == 2) throw Error(field, "has more than 2 entries, expected [begin, end]");
            if (_reader.TokenType != JsonTokenType.Number || !_reader.TryGetUInt64(out values[n]))
                throw Error($"{field}[{n}]", $"{Token()} is not a non-negative integer");
            n++;
        }
        if (n != 2) throw Error(field, $"has {n} entries, expected [begin, end]");
        return (values[0], values[1]);
    }

    /// <summary>Reads the next token; the end of the input inside the object is a JSON error.</summary>
    private JsonTokenType Next()
    {
        if (!_reader.Read()) throw new JsonException("the header ends inside the JSON object");
        return _reader.TokenType;
    }

    private readonly long At => _base + _reader.TokenStartIndex;

    private readonly string Token()
    {
        var raw = _reader.HasValueSequence ? _reader.ValueSequence.ToArray() : _reader.ValueSpan.ToArray();
        string text = Encoding.UTF8.GetString(raw.AsSpan(0, Math.Min(raw.Length, 40)));
        return _reader.TokenType == JsonTokenType.Number ? text : $"{_reader.TokenType} \"{text}\"";
    }

    private readonly GgufFormatException Error(string field, string problem, long at = long.MinValue) =>
        new(_file, field, at == long.MinValue ? At : at, problem);
}
