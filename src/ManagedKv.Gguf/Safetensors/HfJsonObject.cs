using System.Globalization;
using System.Text.Json;

namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// Typed, validating access to the fields of one JSON object of a Hugging Face side file. A JSON
/// <c>null</c> counts as absent (configs write <c>"head_dim": null</c>); a present field of the wrong
/// type or range is a <see cref="GgufFormatException"/> naming the file and the dotted field path.
/// </summary>
public readonly struct HfJsonObject
{
    /// <summary>Wraps <paramref name="element"/>, which must be a JSON object.</summary>
    /// <param name="element">The object.</param>
    /// <param name="file">File it came from, for errors.</param>
    /// <param name="path">Dotted path of the object inside the file ("" for the root).</param>
    /// <exception cref="GgufFormatException"><paramref name="element"/> is not an object.</exception>
    public HfJsonObject(JsonElement element, string file, string path = "")
    {
        File = file;
        Path = path;
        Element = element;
        if (element.ValueKind != JsonValueKind.Object)
            throw new GgufFormatException(file, path.Length == 0 ? "<root>" : path, -1, $"is {HfJson.Describe(element.ValueKind)}, expected an object");
    }

    /// <summary>The wrapped object.</summary>
    public JsonElement Element { get; }

    /// <summary>File the object came from.</summary>
    public string File { get; }

    /// <summary>Dotted path of the object inside the file ("" for the root).</summary>
    public string Path { get; }

    /// <summary>The dotted path of field <paramref name="name"/>, as used in error messages.</summary>
    public string FieldName(string name) => Path.Length == 0 ? name : Path + "." + name;

    /// <summary>A format error about field <paramref name="name"/>.</summary>
    public GgufFormatException Error(string name, string problem) => new(File, FieldName(name), -1, problem);

    /// <summary>True when the field exists and is not null.</summary>
    public bool Has(string name) => Element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The raw value of a present, non-null field.</summary>
    public JsonElement? Value(string name) =>
        Element.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>An integer field in int32 range (an integral number such as <c>2048.0</c> is accepted), or null.</summary>
    public int? Int32(string name)
    {
        if (Value(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Error(name, $"is {HfJson.Describe(v.ValueKind)}, expected an integer");
        if (v.TryGetInt32(out int i)) return i;
        if (v.TryGetDouble(out double d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
        throw Error(name, $"{v.GetRawText()} is not an integer in int32 range");
    }

    /// <summary>A required integer field.</summary>
    public int RequiredInt32(string name) => Int32(name) ?? throw Missing(name);

    /// <summary>A number field as double (must be finite), or null.</summary>
    public double? Double(string name)
    {
        if (Value(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Error(name, $"is {HfJson.Describe(v.ValueKind)}, expected a number");
        if (!v.TryGetDouble(out double d) || !double.IsFinite(d)) throw Error(name, $"{v.GetRawText()} is not a finite number");
        return d;
    }

    /// <summary>A required number field.</summary>
    public double RequiredDouble(string name) => Double(name) ?? throw Missing(name);

    /// <summary>A boolean field, or null.</summary>
    public bool? Bool(string name)
    {
        if (Value(name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(name, $"is {HfJson.Describe(v.ValueKind)}, expected true or false"),
        };
    }

    /// <summary>A string field, or null.</summary>
    public string? String(string name)
    {
        if (Value(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(name, $"is {HfJson.Describe(v.ValueKind)}, expected a string");
    }

    /// <summary>A required string field.</summary>
    public string RequiredString(string name) => String(name) ?? throw Missing(name);

    /// <summary>A nested object field, or null.</summary>
    public HfJsonObject? Object(string name) => Value(name) is { } v ? new HfJsonObject(v, File, FieldName(name)) : null;

    /// <summary>A required nested object field.</summary>
    public HfJsonObject RequiredObject(string name) => Object(name) ?? throw Missing(name);

    /// <summary>An array-of-strings field, or null.</summary>
    public string[]? StringArray(string name)
    {
        if (Value(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Array) throw Error(name, $"is {HfJson.Describe(v.ValueKind)}, expected an array of strings");
        var result = new string[v.GetArrayLength()];
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw new GgufFormatException(File, FieldName(name) + $"[{i}]", -1, $"is {HfJson.Describe(item.ValueKind)}, expected a string");
            result[i++] = item.GetString()!;
        }
        return result;
    }

    /// <summary>The object's properties in file order.</summary>
    public IEnumerable<JsonProperty> Properties() => Element.EnumerateObject();

    /// <summary>The value of a property as display text (strings unquoted, everything else as raw JSON).</summary>
    public static string Text(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private GgufFormatException Missing(string name) => Error(name, "required field is missing");

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}:{(Path.Length == 0 ? "<root>" : Path)}");
}
