namespace ManagedKv.Model.Loading;

/// <summary>How a model's weights are stored.</summary>
public enum ModelFormat
{
    /// <summary>A single GGUF file (weights, hyper-parameters and tokenizer in one).</summary>
    Gguf,

    /// <summary>A Hugging Face folder: config.json, safetensors weights (single or sharded), tokenizer.json.</summary>
    Safetensors,
}
