using System.Globalization;
using System.Text;
using System.Text.Json;
using ManagedKv.Gguf;
using ManagedKv.Model.Config;
using ManagedKv.Model.Loading;
using ManagedKv.Model.Tokenization;

namespace ManagedKv.Cli.Commands;

/// <summary>One row of the tensor table.</summary>
public sealed record TensorRow(string Name, string Type, long[] Shape, long Elements, long Bytes, long Offset)
{
    /// <summary>Shape as text, in the file's own order.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>What <c>inspect</c> shows about a model, rendered as text or JSON.</summary>
public sealed record ModelReport(
    string Source,
    string Format,
    long FileBytes,
    IReadOnlyList<(string Key, string Value)> Summary,
    IReadOnlyList<(string Key, string Value)> Tokenizer,
    IReadOnlyList<TensorRow> Tensors,
    IReadOnlyList<(string Key, string Value)> Metadata,
    IReadOnlyList<string> Problems)
{
    /// <summary>Builds the report of a GGUF file; config and tokenizer problems are reported, not thrown.</summary>
    public static ModelReport FromGguf(GgufFile file, string display)
    {
        var problems = new List<string>();
        var summary = new List<(string, string)>
        {
            ("gguf version", file.Version.ToString(CultureInfo.InvariantCulture)),
            ("name", file.GetString("general.name") ?? "(absent)"),
            ("file type", file.GetInt32("general.file_type") is { } ft ? ft.ToString(CultureInfo.InvariantCulture) : "(absent)"),
            ("alignment", file.Alignment.ToString(CultureInfo.InvariantCulture)),
        };
        ModelConfig? config = null;
        try { config = ModelConfig.FromGguf(file); }
        catch (GgufFormatException e) { problems.Add($"not a runnable model: {e.Message}"); }
        if (config is not null) summary.AddRange(ConfigRows(config));

        var tokenizer = new List<(string, string)>();
        try { tokenizer.AddRange(TokenizerRows(ModelTokenizer.FromGguf(file))); }
        catch (GgufFormatException e) { problems.Add($"tokenizer: {e.Message}"); }

        var tensors = file.Tensors.Select(t => new TensorRow(t.Name, t.Type.ToString(), t.Dimensions, t.ElementCount, t.ByteSize, t.FileOffset)).ToList();
        var metadata = file.MetadataInOrder.Select(kv => (kv.Key, kv.Value.ToString())).ToList();
        return new ModelReport(display, "gguf", file.FileSize, summary, tokenizer, tensors, metadata, problems);
    }

    /// <summary>Builds the report of a Hugging Face folder (config.json, safetensors, tokenizer.json).</summary>
    public static ModelReport FromFolder(ModelSource source, string display)
    {
        var problems = new List<string>();
        var st = source.Safetensors!;
        var summary = new List<(string, string)>
        {
            ("files", string.Join(", ", st.Files.Select(f => Path.GetFileName(f.FileName)))),
            ("sharded", st.IsSharded ? "yes" : "no"),
        };
        summary.AddRange(ConfigRows(source.Config));
        var tokenizer = new List<(string, string)>();
        try { tokenizer.AddRange(TokenizerRows(source.CreateTokenizer())); }
        catch (GgufFormatException e) { problems.Add($"tokenizer: {e.Message}"); }
        try { source.ValidateTensors(); }
        catch (GgufFormatException e) { problems.Add($"weights: {e.Message}"); }

        var tensors = new List<TensorRow>();
        foreach (string name in st.TensorNames)
        {
            var (_, info) = st.FindTensor(name)!.Value;
            tensors.Add(new TensorRow(name, info.DType, info.Shape, info.ElementCount, info.ByteSize, info.FileOffset));
        }
        long bytes = st.Files.Sum(f => new FileInfo(f.FileName).Length);
        return new ModelReport(display, "safetensors", bytes, summary, tokenizer, tensors, [], problems);
    }

    private static IEnumerable<(string, string)> ConfigRows(ModelConfig c) =>
    [
        ("architecture", c.Architecture.ToString().ToLowerInvariant()),
        ("vocabulary", c.VocabSize.ToString(CultureInfo.InvariantCulture)),
        ("embedding length", c.EmbeddingLength.ToString(CultureInfo.InvariantCulture)),
        ("blocks", c.BlockCount.ToString(CultureInfo.InvariantCulture)),
        ("heads (query / kv)", $"{c.HeadCount} / {c.KvHeadCount}"),
        ("head dim (key / value)", $"{c.HeadDim} / {c.ValueHeadDim}"),
        ("feed-forward length", c.FeedForwardLength.ToString(CultureInfo.InvariantCulture)),
        ("context length", c.ContextLength.ToString(CultureInfo.InvariantCulture)),
        ("rope", $"{c.RopeStyle.ToString().ToLowerInvariant()}, base {c.RopeFreqBase.ToString(CultureInfo.InvariantCulture)}, {c.RopeDimensionCount} dims, scaling {c.RopeScaling}"),
        ("rms norm eps", c.RmsNormEps.ToString("R", CultureInfo.InvariantCulture)),
        ("tied embeddings", c.TiedEmbeddings ? "yes" : "no"),
        ("q/k/v bias", c.HasQkvBias ? "yes" : "no"),
        ("kv cache per token (f32)", $"{4L * c.BlockCount * c.KvHeadCount * (c.HeadDim + c.ValueHeadDim):N0} bytes"),
    ];

    private static IEnumerable<(string, string)> TokenizerRows(ModelTokenizer t) =>
    [
        ("model", t.Model + (t.PreTokenizer is { } pre ? $" (pre-tokenizer {pre})" : "")),
        ("tokens", t.VocabSize.ToString(CultureInfo.InvariantCulture)),
        ("bos", $"{t.BosId}{(t.BosId >= 0 ? $" {t.TokenText(t.BosId)}" : "")}, added: {(t.AddBos ? "yes" : "no")}"),
        ("eos", $"{t.EosId}{(t.EosId >= 0 ? $" {t.TokenText(t.EosId)}" : "")}"),
        ("end of generation", string.Join(", ", t.EndOfGenerationIds.Order())),
    ];

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
        if (withMetadata && Metadata.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("metadata:");
            foreach (var (k, v) in Metadata) w.WriteLine($"  {k,-40} {Abbreviate(v, 100)}");
        }
        foreach (string p in Problems) w.WriteLine($"\nproblem: {p}");
        w.WriteLine();
        int nameWidth = Math.Max(4, Tensors.Count == 0 ? 4 : Tensors.Max(t => t.Name.Length));
        w.WriteLine($"  {"name".PadRight(nameWidth)}  {"type",-6}  {"shape",-20}  {"bytes",12}");
        foreach (var t in Tensors)
            w.WriteLine($"  {t.Name.PadRight(nameWidth)}  {t.Type,-6}  {t.ShapeText,-20}  {t.Bytes,12:N0}");
        long elements = Tensors.Sum(t => t.Elements), bytes = Tensors.Sum(t => t.Bytes);
        w.WriteLine();
        w.WriteLine($"  {Tensors.Count} tensors, {elements:N0} parameters, {Bytes(bytes)} of weights"
            + (elements > 0 ? $" ({8.0 * bytes / elements:F2} bits per weight)" : ""));
        foreach (var g in Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.Bytes)).ThenBy(g => g.Key, StringComparer.Ordinal))
            w.WriteLine($"    {g.Key,-6} {g.Count(),4} tensors  {Bytes(g.Sum(t => t.Bytes)),10}");
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
                foreach (var (k, v) in Metadata) j.WriteString(k, Abbreviate(v, 200));
                j.WriteEndObject();
            }
            j.WriteStartArray("tensors");
            foreach (var t in Tensors)
            {
                j.WriteStartObject();
                j.WriteString("name", t.Name);
                j.WriteString("type", t.Type);
                j.WriteStartArray("shape");
                foreach (long d in t.Shape) j.WriteNumberValue(d);
                j.WriteEndArray();
                j.WriteNumber("bytes", t.Bytes);
                j.WriteNumber("offset", t.Offset);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteStartObject("totals");
            j.WriteNumber("tensors", Tensors.Count);
            j.WriteNumber("parameters", Tensors.Sum(t => t.Elements));
            j.WriteNumber("bytes", Tensors.Sum(t => t.Bytes));
            j.WriteEndObject();
            j.WriteStartArray("problems");
            foreach (string p in Problems) j.WriteStringValue(p);
            j.WriteEndArray();
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
