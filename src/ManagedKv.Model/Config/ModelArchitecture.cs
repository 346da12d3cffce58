namespace ManagedKv.Model.Config;

/// <summary>The model families ManagedKv runs; each has a row in <see cref="ArchitectureTable"/>.</summary>
public enum ModelArchitecture
{
    /// <summary>Llama 1/2/3 (GGUF <c>llama</c>, Hugging Face <c>LlamaForCausalLM</c>).</summary>
    Llama,

    /// <summary>Mistral 7B-style models (Hugging Face <c>MistralForCausalLM</c>); llama.cpp converts them to GGUF arch <c>llama</c>.</summary>
    Mistral,

    /// <summary>Qwen2 / Qwen2.5 (GGUF <c>qwen2</c>, Hugging Face <c>Qwen2ForCausalLM</c>): q/k/v biases, NEOX rope.</summary>
    Qwen2,
}
