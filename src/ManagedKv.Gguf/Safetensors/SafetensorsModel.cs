using System.Text.Json;

namespace ManagedKv.Gguf.Safetensors;

/// <summary>
/// The weights of a Hugging Face checkpoint folder: either one <c>model.safetensors</c>, or shards
/// listed by <c>model.safetensors.index.json</c> (<c>weight_map</c>: tensor name → shard file name).
/// Every shard is memory-mapped once; tensors are looked up by their Hugging Face names.
/// </summary>
/// <remarks>
/// Sharded folders are checked for consistency when opened: a shard name must be a plain file name
/// in the folder (no paths), every listed shard must exist, every listed tensor must be in the shard
/// the index names, and no tensor may be stored in two shards. Tensors present in a shard but not
/// listed in the index are still served (the index is a lookup aid, the shards hold the truth).
/// </remarks>
public sealed class SafetensorsModel : IDisposable
{
    /// <summary>File name of an unsharded checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>File name of the shard index.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _byName;

    private SafetensorsModel(string folder, IReadOnlyList<SafetensorsFile> files, Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)> byName,
        IReadOnlyDictionary<string, string> indexMetadata, bool sharded)
    {
        Folder = folder;
        IsSharded = sharded;
        Files = files;
        _byName = byName;
        IndexMetadata = indexMetadata;
        TensorNames = files.SelectMany(f => f.Tensors).Select(t => t.Name).ToArray();
    }

    /// <summary>The checkpoint folder.</summary>
    public string Folder { get; }

    /// <summary>The opened files: one, or the shards in index order.</summary>
    public IReadOnlyList<SafetensorsFile> Files { get; }

    /// <summary>Every tensor name, file by file in header order.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>The index's <c>metadata</c> object as text values (empty for unsharded checkpoints).</summary>
    public IReadOnlyDictionary<string, string> IndexMetadata { get; }

    /// <summary>True when the checkpoint is sharded.</summary>
    public bool IsSharded { get; }

    /// <summary>True when <paramref name="folder"/> holds a single-file or sharded safetensors checkpoint.</summary>
    public static bool IsCheckpointFolder(string folder) =>
        File.Exists(Path.Combine(folder, IndexFileName)) || File.Exists(Path.Combine(folder, SingleFileName));

    /// <summary>Opens the checkpoint in <paramref name="folder"/> (the index wins when both forms are present).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="GgufFormatException">No checkpoint, a malformed file, or an inconsistent index.</exception>
    public static SafetensorsModel OpenFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder not found: {folder}");
        string index = Path.Combine(folder, IndexFileName);
        if (File.Exists(index)) return OpenSharded(folder, index);
        string single = Path.Combine(folder, SingleFileName);
        if (!File.Exists(single))
            throw new GgufFormatException(folder, SingleFileName, -1, $"the folder has neither {SingleFileName} nor {IndexFileName}");
        var file = SafetensorsFile.Open(single);
        var byName = file.Tensors.ToDictionary(t => t.Name, t => (file, t), StringComparer.Ordinal);
        return new SafetensorsModel(folder, [file], byName, new Dictionary<string, string>(), sharded: false);
    }

    /// <summary>The file and entry holding the tensor named <paramref name="name"/>, or null.</summary>
    public (SafetensorsFile File, SafetensorsTensorInfo Info)? FindTensor(string name) =>
        _byName.TryGetValue(name, out var hit) ? hit : null;

    /// <summary>A view of the tensor named <paramref name="name"/>.</summary>
    /// <exception cref="GgufFormatException">The tensor is missing or its dtype is unsupported.</exception>
    public TensorView GetTensorView(string name) =>
        TryGetTensorView(name, out var view) ? view : throw new GgufFormatException(Folder, $"tensor \"{name}\"", -1, "required tensor is missing");

    /// <summary>A view of the tensor named <paramref name="name"/>, or false when no file holds it.</summary>
    /// <exception cref="GgufFormatException">The tensor exists but its dtype is unsupported.</exception>
    public bool TryGetTensorView(string name, out TensorView view)
    {
        if (!_byName.TryGetValue(name, out var hit))
        {
            view = default;
            return false;
        }
        view = hit.File.GetTensorView(hit.Info);
        return true;
    }

    /// <summary>Releases every file's memory map.</summary>
    public void Dispose()
    {
        foreach (var f in Files) f.Dispose();
    }

    private static SafetensorsModel OpenSharded(string folder, string indexPath)
    {
        var weightMap = new List<(string Tensor, string Shard)>();
        var indexMetadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var doc = HfJson.ReadFile(indexPath))
        {
            var root = new HfJsonObject(doc.RootElement, indexPath);
            if (root.Object("metadata") is { } meta)
                foreach (var p in meta.Properties()) indexMetadata[p.Name] = HfJsonObject.Text(p.Value);
            foreach (var p in root.RequiredObject("weight_map").Properties())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new GgufFormatException(indexPath, $"weight_map[\"{p.Name}\"]", -1, $"is {HfJson.Describe(p.Value.ValueKind)}, expected a shard file name");
                weightMap.Add((p.Name, p.Value.GetString()!));
            }
        }
        if (weightMap.Count == 0) throw new GgufFormatException(indexPath, "weight_map", -1, "lists no tensors");

        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var files = new List<SafetensorsFile>();
        try
        {
            foreach (var (tensor, shard) in weightMap)
            {
                if (shards.ContainsKey(shard)) continue;
                string field = $"weight_map[\"{tensor}\"]";
                if (!IsPlainFileName(shard))
                    throw new GgufFormatException(indexPath, field, -1, $"shard name \"{shard}\" is not a plain file name in the model folder");
                string path = Path.Combine(folder, shard);
                if (!File.Exists(path))
                    throw new GgufFormatException(indexPath, field, -1, $"shard \"{shard}\" does not exist in {folder}");
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                shards.Add(shard, file);
            }

            var byName = new Dictionary<string, (SafetensorsFile, SafetensorsTensorInfo)>(StringComparer.Ordinal);
            foreach (var file in files)
                foreach (var t in file.Tensors)
                    if (!byName.TryAdd(t.Name, (file, t)))
                        throw new GgufFormatException(file.FileName, $"header[\"{t.Name}\"]", t.HeaderOffset,
                            $"tensor is stored in two shards: {Path.GetFileName(byName[t.Name].Item1.FileName)} and {Path.GetFileName(file.FileName)}");

            foreach (var (tensor, shard) in weightMap)
            {
                var owner = shards[shard];
                if (owner.FindTensor(tensor) is null)
                {
                    string where = byName.TryGetValue(tensor, out var other) ? $"it is in {Path.GetFileName(other.Item1.FileName)}" : "no shard holds it";
                    throw new GgufFormatException(indexPath, $"weight_map[\"{tensor}\"]", -1, $"tensor is not in shard \"{shard}\"; {where}");
                }
            }
            return new SafetensorsModel(folder, files, byName, indexMetadata, sharded: true);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    private static bool IsPlainFileName(string name) =>
        name.Length > 0 && name != "." && name != ".." && name.IndexOfAny(['/', '\\', '\0']) < 0
        && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && !Path.IsPathRooted(name);
}
