using System.Text.Json;

namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// Strict parsing of the small JSON files that travel with Hugging Face checkpoints
/// (<c>config.json</c>, <c>model.safetensors.index.json</c>): duplicate keys, comments, trailing
/// commas and trailing garbage are rejected, the file size is capped, and every failure becomes a
/// <see cref="GgufFormatException"/> that names the file and the byte offset of the problem.
/// </summary>
public static class HfJson
{
    /// <summary>Default cap on the size of a JSON side file (config.json is a few KiB; indexes a few MiB).</summary>
    public const long DefaultMaxBytes = 64L << 20;

    /// <summary>Deepest object/array nesting accepted.</summary>
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions Options = new()
    {
        AllowDuplicateProperties = false,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    /// <summary>Reads and parses a JSON file whose root must be an object.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is too large, not JSON, or its root is not an object.</exception>
    public static JsonDocument ReadFile(string path, long maxBytes = DefaultMaxBytes)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"file not found: {path}", path);
        if (info.Length > maxBytes)
            throw new GgufFormatException(path, "<file>", 0, $"file is {info.Length} bytes; at most {maxBytes} are accepted for this JSON file");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Parses UTF-8 JSON whose root must be an object. <paramref name="baseOffset"/> is added to byte
    /// offsets in errors (for JSON embedded in a larger file).
    /// </summary>
    /// <exception cref="GgufFormatException">The bytes are not valid JSON or the root is not an object.</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string file, long baseOffset = 0)
    {
        // A reader pass first: it gives exact byte offsets for syntax errors and duplicate keys, which
        // JsonDocument reports without a position.
        CheckSyntaxAndDuplicates(utf8.Span, file, baseOffset);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException e)
        {
            throw new GgufFormatException(file, "<json>", baseOffset + OffsetOf(utf8.Span, e), "not valid JSON: " + TrimLocation(e.Message), e);
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw new GgufFormatException(file, "<root>", baseOffset, $"the JSON root is {Describe(kind)}, expected an object");
        }
        return document;
    }

    private static void CheckSyntaxAndDuplicates(ReadOnlySpan<byte> utf8, string file, long baseOffset)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = MaxDepth });
        var keys = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        string name = reader.GetString()!;
                        if (!keys.Peek().Add(name))
                            throw new GgufFormatException(file, "<json>", baseOffset + reader.TokenStartIndex, $"duplicate key \"{name}\"");
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            long at = OffsetOf(utf8, e);
            throw new GgufFormatException(file, "<json>", baseOffset + (at >= 0 ? at : reader.BytesConsumed), "not valid JSON: " + TrimLocation(e.Message), e);
        }
        catch (InvalidOperationException e)
        {
            throw new GgufFormatException(file, "<json>", baseOffset + reader.TokenStartIndex, "invalid string: " + e.Message, e);
        }
    }

    /// <summary>
    /// The absolute byte offset that a <see cref="JsonException"/> points at, computed from its
    /// 0-based line number and byte position in that line; -1 when the exception has no position.
    /// </summary>
    public static long OffsetOf(ReadOnlySpan<byte> utf8, JsonException e)
    {
        if (e.LineNumber is not { } line || e.BytePositionInLine is not { } column) return -1;
        long offset = 0;
        for (long l = 0; l < line; l++)
        {
            int next = utf8[(int)offset..].IndexOf((byte)'\n');
            if (next < 0) return -1;
            offset += next + 1;
        }
        return Math.Min(offset + column, utf8.Length);
    }

    /// <summary>"an array", "a string", … for error messages.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>
    /// The message of a <see cref="JsonException"/> without the "Path: … | LineNumber: … |
    /// BytePositionInLine: …" suffix System.Text.Json appends (the location is reported as an offset).
    /// </summary>
    public static string TrimLocation(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut].TrimEnd(' ', '|', '.') : message;
    }
}
