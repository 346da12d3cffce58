using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ManagedKv.Model.Evaluation.Results;

/// <summary>
/// A run's JSON result file: its settings and every finished cell. Opening an existing file with equal settings
/// resumes it (its cells are kept and not recomputed); the file is rewritten atomically (temporary file +
/// rename) as cells finish, so a crash or Ctrl+C loses at most the cells of the last
/// <see cref="SaveInterval"/>. Cells are written in plan order and numbers in shortest round-trip form, so
/// the same run always writes the same bytes.
/// </summary>
public sealed class ResultStore<TCell> where TCell : IEvalCell
{
    /// <summary>Serializer options of every result file.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // responses stay readable; the file is never embedded in HTML
    };

    private readonly Dictionary<string, TCell> _cells = new(StringComparer.Ordinal);
    private readonly Stopwatch _sinceSave = Stopwatch.StartNew();
    private Dictionary<string, int> _order = new(StringComparer.Ordinal);

    private ResultStore(string path, EvalSettings settings)
    {
        Path = path;
        Settings = settings;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The run's settings.</summary>
    public EvalSettings Settings { get; }

    /// <summary>Longest time finished cells stay unsaved (writes are throttled so large grids don't spend their time serialising).</summary>
    public TimeSpan SaveInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Cells taken from an existing file when it was opened.</summary>
    public int ResumedCount { get; private set; }

    /// <summary>Every cell, in plan order (cells outside the plan last, by key).</summary>
    public IReadOnlyList<TCell> Cells =>
        _cells.Values.OrderBy(c => _order.GetValueOrDefault(c.Key, int.MaxValue)).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Opens <paramref name="path"/>: resumes it when it exists with equal settings, starts empty when it does not
    /// exist or <paramref name="fresh"/> is set.
    /// </summary>
    /// <exception cref="InvalidDataException">The file holds a different run's settings, or is not a result file.</exception>
    public static ResultStore<TCell> Open(string path, EvalSettings settings, bool fresh = false)
    {
        var store = new ResultStore<TCell>(path, settings);
        if (fresh || !File.Exists(path)) return store;

        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a result file ({e.Message}); use --fresh to overwrite it", e); }
        var wanted = JsonSerializer.SerializeToNode(settings, JsonOptions);
        var existing = root?["settings"];
        if (existing is null || !JsonNode.DeepEquals(existing, wanted))
        {
            var differing = existing is JsonObject old && wanted is JsonObject now
                ? now.Select(p => p.Key).Where(k => !JsonNode.DeepEquals(old[k], now[k])).ToList()
                : ["settings"];
            throw new InvalidDataException(
                $"{path} holds a run with different settings ({string.Join(", ", differing)}); use --fresh to start over, or another output folder");
        }
        try
        {
            foreach (var cell in root!["cells"]?.Deserialize<List<TCell>>(JsonOptions) ?? [])
                store._cells[cell.Key] = cell;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable cells ({e.Message}); use --fresh to start over", e);
        }
        store.ResumedCount = store._cells.Count;
        return store;
    }

    /// <summary>Whether a cell with this key is present.</summary>
    public bool Contains(string key) => _cells.ContainsKey(key);

    /// <summary>Adds a finished cell; saves if the last save is older than <see cref="SaveInterval"/>.</summary>
    public void Add(TCell cell)
    {
        _cells[cell.Key] = cell;
        if (_sinceSave.Elapsed >= SaveInterval) Save();
    }

    /// <summary>
    /// Computes every planned cell the store lacks, in plan order, reporting progress after each; saves at the end.
    /// Returns how many cells were computed.
    /// </summary>
    public int Fill(IReadOnlyList<PlannedCell<TCell>> plan, Action<EvalProgress>? progress = null)
    {
        _order = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < plan.Count; i++) _order.TryAdd(plan[i].Key, i);
        int resumed = plan.Count(p => Contains(p.Key));
        int done = resumed, computed = 0;
        progress?.Invoke(new EvalProgress(done, plan.Count, resumed, ""));
        foreach (var planned in plan)
        {
            if (Contains(planned.Key)) continue;
            var cell = planned.Compute();
            if (cell.Key != planned.Key) throw new InvalidOperationException($"cell computed for '{planned.Key}' has key '{cell.Key}'");
            Add(cell);
            computed++;
            progress?.Invoke(new EvalProgress(++done, plan.Count, resumed, planned.Label));
        }
        Save();
        return computed;
    }

    /// <summary>Writes the file now (atomically: a temporary file renamed over it).</summary>
    public void Save()
    {
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (folder is not null) Directory.CreateDirectory(folder);
        var document = new ResultDocument(Settings, Cells);
        string temporary = Path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(document, JsonOptions) + "\n");
        File.Move(temporary, Path, overwrite: true);
        _sinceSave.Restart();
    }

    /// <summary>The file's shape.</summary>
    private sealed record ResultDocument(EvalSettings Settings, IReadOnlyList<TCell> Cells);
}
