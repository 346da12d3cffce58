using System.Globalization;
using System.Text;
using System.Text.Json;
using ManagedKv.Gguf;

namespace ManagedKv.Cli.Commands;

/// <summary>What <c>inspect</c> shows about a model, rendered as text or JSON.</summary>
public sealed record ModelReport(
    string Source,
    string Format,
    long FileBytes,
    IReadOnlyList<(string Key, string Value)> Summary,
    IReadOnlyList<(string Key, string Value)> Tokenizer,
    IReadOnlyList<GgufTensorInfo> Tensors,
    IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata)
{
    /// <summary>Builds the report of a GGUF file.</summary>
    public static ModelReport FromGguf(GgufFile file, string display)
    {
        string arch = file.GetString("general.architecture") ?? "(absent)";
        var summary = new List<(string, string)>
        {
            ("gguf version", file.Version.ToString(CultureInfo.InvariantCulture)),
            ("name", file.GetString("general.name") ?? "(absent)"),
            ("architecture", arch),
            ("file type", file.GetInt32("general.file_type") is { } ft ? ft.ToString(CultureInfo.InvariantCulture) : "(absent)"),
            ("alignment", file.Alignment.ToString(CultureInfo.InvariantCulture)),
        };
        foreach (var (key, value) in file.MetadataInOrder)
            if (key.StartsWith(arch + ".", StringComparison.Ordinal) && value.Type != GgufValueType.Array)
                summary.Add((key[(arch.Length + 1)..], value.ToString()));

        var tokenizer = new List<(string, string)>();
        foreach (var (key, value) in file.MetadataInOrder)
        {
            if (!key.StartsWith("tokenizer.", StringComparison.Ordinal) || key == "tokenizer.chat_template") continue;
            string shown = value.Type == GgufValueType.Array ? $"{value.AsArray().Count} × {value.AsArray().ElementType}" : value.ToString();
            tokenizer.Add((key["tokenizer.".Length..], shown));
        }
        return new ModelReport(display, "gguf", file.FileSize, summary, tokenizer, file.Tensors, file.MetadataInOrder);
    }

    /// <summary>Writes a human-readable report.</summary>
    public void WriteText(TextWriter w, bool withMetadata)
    {
        w.WriteLine($"model: {Source}  ({Format}, {Bytes(FileBytes)})");
        w.WriteLine();
        foreach (var (k, v) in Summary) w.WriteLine($"  {k,-34} {v}");
        if (Tokenizer.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("tokenizer:");
            foreach (var (k, v) in Tokenizer) w.WriteLine($"  {k,-34} {v}");
        }
        if (withMetadata)
        {
            w.WriteLine();
            w.WriteLine("metadata:");
            foreach (var (k, v) in Metadata) w.WriteLine($"  {k,-40} {Abbreviate(v.ToString(), 100)}");
        }
        w.WriteLine();
        int nameWidth = Math.Max(4, Tensors.Count == 0 ? 4 : Tensors.Max(t => t.Name.Length));
        w.WriteLine($"  {"name".PadRight(nameWidth)}  {"type",-6}  {"shape",-20}  {"bytes",12}");
        foreach (var t in Tensors)
            w.WriteLine($"  {t.Name.PadRight(nameWidth)}  {t.Type,-6}  {t.ShapeText,-20}  {t.ByteSize,12:N0}");
        long elements = Tensors.Sum(t => t.ElementCount), bytes = Tensors.Sum(t => t.ByteSize);
        w.WriteLine();
        w.WriteLine($"  {Tensors.Count} tensors, {elements:N0} parameters, {Bytes(bytes)} of weights"
            + (elements > 0 ? $" ({8.0 * bytes / elements:F2} bits per weight)" : ""));
        foreach (var g in Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)))
            w.WriteLine($"    {g.Key,-6} {g.Count(),4} tensors  {Bytes(g.Sum(t => t.ByteSize)),10}");
    }

    /// <summary>Writes the report as one JSON object.</summary>
    public void WriteJson(TextWriter w, bool withMetadata)
    {
        var buffer = new MemoryStream();
        using (var j = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("source", Source);
            j.WriteString("format", Format);
            j.WriteNumber("file_bytes", FileBytes);
            j.WriteStartObject("summary");
            foreach (var (k, v) in Summary) j.WriteString(k, v);
            j.WriteEndObject();
            j.WriteStartObject("tokenizer");
            foreach (var (k, v) in Tokenizer) j.WriteString(k, v);
            j.WriteEndObject();
            if (withMetadata)
            {
                j.WriteStartObject("metadata");
                foreach (var (k, v) in Metadata) j.WriteString(k, Abbreviate(v.ToString(), 200));
                j.WriteEndObject();
            }
            j.WriteStartArray("tensors");
            foreach (var t in Tensors)
            {
                j.WriteStartObject();
                j.WriteString("name", t.Name);
                j.WriteString("type", t.Type.ToString());
                j.WriteStartArray("shape");
                foreach (long d in t.Dimensions) j.WriteNumberValue(d);
                j.WriteEndArray();
                j.WriteNumber("bytes", t.ByteSize);
                j.WriteNumber("offset", t.FileOffset);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartObject("totals");
            j.WriteNumber("tensors", Tensors.Count);
            j.WriteNumber("parameters", Tensors.Sum(t => t.ElementCount));
            j.WriteNumber("bytes", Tensors.Sum(t => t.ByteSize));
            j.WriteEndObject();
            j.WriteEndObject();
        }
        w.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static string Abbreviate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static string Bytes(long b) => b switch
    {
        >= 1L << 30 => $"{b / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{b / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{b / 1024.0:F1} KiB",
        _ => $"{b} B",
    };
}
