using ManagedKv.Gguf;
using ManagedKv.Gguf.Safetensors;
using ManagedKv.Model.Config;

namespace ManagedKv.Model.Loading;

/// <summary>
/// An opened model, whichever way it is stored: a GGUF file, or a Hugging Face folder (config.json +
/// safetensors + tokenizer.json). It gives the validated <see cref="ModelConfig"/> and zero-copy
/// tensor views addressed by GGUF tensor names in both cases, so everything downstream is written
/// once. Views are valid until the source is disposed.
/// </summary>
/// <remarks>
/// Weights from a Hugging Face folder are served exactly as stored (only the names are translated,
/// by <see cref="HfTensorNames"/>): llama/mistral q and k are not permuted, and the config says
/// <see cref="RopeStyle.Neox"/> for them instead (see <see cref="ModelConfig"/>). Views of
/// safetensors tensors keep their Hugging Face <see cref="TensorView.Name"/>.
/// </remarks>
public sealed class ModelSource : IDisposable
{
    /// <summary>Name of the hyper-parameter file in a Hugging Face folder.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Name of the tokenizer file in a Hugging Face folder.</summary>
    public const string TokenizerFileName = "tokenizer.json";

    private ModelSource(string path, ModelFormat format, ModelConfig config, GgufFile? gguf, SafetensorsModel? safetensors, string? folder)
    {
        Path = path;
        Format = format;
        Config = config;
        Gguf = gguf;
        Safetensors = safetensors;
        Folder = folder;
    }

    /// <summary>The path the source was opened from.</summary>
    public string Path { get; }

    /// <summary>How the weights are stored.</summary>
    public ModelFormat Format { get; }

    /// <summary>The validated hyper-parameters.</summary>
    public ModelConfig Config { get; }

    /// <summary>The GGUF file (for tokenizer metadata), or null for a Hugging Face folder.</summary>
    public GgufFile? Gguf { get; }

    /// <summary>The safetensors weights, or null for a GGUF file.</summary>
    public SafetensorsModel? Safetensors { get; }

    /// <summary>The Hugging Face folder, or null for a GGUF file.</summary>
    public string? Folder { get; }

    /// <summary>The folder's tokenizer.json when it exists, else null.</summary>
    public string? TokenizerJsonPath =>
        Folder is not null && File.Exists(System.IO.Path.Combine(Folder, TokenizerFileName)) ? System.IO.Path.Combine(Folder, TokenizerFileName) : null;

    /// <summary>
    /// Opens a model: a <c>.gguf</c> file, a Hugging Face folder, or a file inside such a folder
    /// (config.json, a .safetensors file or the shard index).
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="GgufFormatException">The model is malformed, inconsistent or unsupported.</exception>
    public static ModelSource Open(string path)
    {
        if (Directory.Exists(path)) return OpenFolder(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model not found: {path}", path);
        string name = System.IO.Path.GetFileName(path);
        if (name == ConfigFileName || name == SafetensorsModel.IndexFileName || name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return OpenFolder(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);

        var gguf = GgufFile.Open(path);
        try
        {
            return new ModelSource(path, ModelFormat.Gguf, ModelConfig.FromGguf(gguf), gguf, null, null);
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
    }

    private static ModelSource OpenFolder(string folder)
    {
        string configPath = System.IO.Path.Combine(folder, ConfigFileName);
        if (!File.Exists(configPath))
            throw new GgufFormatException(folder, ConfigFileName, -1, $"the model folder has no {ConfigFileName}");
        var config = ModelConfig.FromHuggingFace(configPath);
        var weights = SafetensorsModel.OpenFolder(folder);
        return new ModelSource(folder, ModelFormat.Safetensors, config, null, weights, folder);
    }

    /// <summary>The GGUF names of the tensors available (Hugging Face tensors without a GGUF name are left out).</summary>
    public IEnumerable<string> TensorNames =>
        Gguf is not null
            ? Gguf.Tensors.Select(t => t.Name)
            : Safetensors!.TensorNames.Select(HfTensorNames.ToGguf).OfType<string>();

    /// <summary>The tensor with GGUF name <paramref name="ggufName"/>.</summary>
    /// <exception cref="GgufFormatException">The tensor is missing or cannot be read (e.g. an unsupported dtype).</exception>
    public TensorView GetTensor(string ggufName) =>
        TryGetTensor(ggufName, out var view) ? view : throw new GgufFormatException(Path, Describe(ggufName), -1, "required tensor is missing");

    /// <summary>The tensor with GGUF name <paramref name="ggufName"/>, or false when the model has none.</summary>
    /// <exception cref="GgufFormatException">The tensor exists but cannot be read (e.g. an unsupported dtype).</exception>
    public bool TryGetTensor(string ggufName, out TensorView view)
    {
        if (Gguf is not null) return Gguf.TryGetTensorView(ggufName, out view);
        if (HfTensorNames.ToHuggingFace(ggufName) is { } hf) return Safetensors!.TryGetTensorView(hf, out view);
        view = default;
        return false;
    }

    /// <summary>
    /// Checks that every tensor <see cref="Config"/> needs exists with the shape it implies
    /// (<see cref="TensorRequirements"/>): q/k/v/output projections, norms, the FFN, qwen2 biases, and
    /// output.weight unless the embeddings are tied.
    /// </summary>
    /// <exception cref="GgufFormatException">A tensor is missing, unreadable or mis-shaped; the message names it.</exception>
    public void ValidateTensors()
    {
        foreach (var need in TensorRequirements.For(Config))
        {
            if (!TryGetTensor(need.Name, out var view))
            {
                if (!need.Required) continue;
                string why = need.Name == "output.weight" ? " (the embeddings are not tied, so the model needs its own output projection)" : "";
                throw new GgufFormatException(Path, Describe(need.Name), -1, "required tensor is missing" + why);
            }
            if (!TensorRequirements.SameShape(view.Dimensions, need.Dimensions))
                throw new GgufFormatException(view.SourceFile, Describe(need.Name), -1,
                    $"shape {view.ShapeText} (ggml order) does not match {need.Meaning} = [{string.Join(", ", need.Dimensions)}] implied by the config");
        }
    }

    /// <summary>Bytes of every weight tensor in its stored type.</summary>
    public long WeightBytes => TensorNames.Sum(n => GetTensor(n).ByteSize);

    /// <summary>Number of weights (elements of every tensor).</summary>
    public long ParameterCount => TensorNames.Sum(n => GetTensor(n).ElementCount);

    /// <summary>
    /// The model's tokenizer: from GGUF metadata, or from the folder's tokenizer.json.
    /// </summary>
    /// <exception cref="GgufFormatException">The tokenizer data is missing or malformed.</exception>
    public Tokenization.ModelTokenizer CreateTokenizer()
    {
        if (Gguf is not null) return Tokenization.ModelTokenizer.FromGguf(Gguf);
        if (TokenizerJsonPath is { } json && File.Exists(json)) return Tokenization.ModelTokenizer.FromHuggingFace(json);
        throw new GgufFormatException(Path, TokenizerFileName, -1, "the model folder has no tokenizer.json");
    }

    /// <summary>Releases the underlying files; tensor views become invalid.</summary>
    public void Dispose()
    {
        Gguf?.Dispose();
        Safetensors?.Dispose();
    }

    private string Describe(string ggufName) =>
        Format == ModelFormat.Safetensors && HfTensorNames.ToHuggingFace(ggufName) is { } hf
            ? $"tensor \"{ggufName}\" (\"{hf}\")"
            : $"tensor \"{ggufName}\"";
}
