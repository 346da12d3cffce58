using ManagedKv.Model.Cache;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Inference;

/// <summary>Runs a golden prompt then greedy decoding on a backend, recording tokens and logits.</summary>
internal static class ModelRun
{
    /// <summary>Prefills <paramref name="promptId"/> and decodes <paramref name="steps"/> greedy tokens (EOS allowed).</summary>
    public static (int[] Tokens, float[][] Logits) Greedy(Func<IBackend> backend, string model, string promptId, int steps,
        KvStorageType storage = KvStorageType.F32)
    {
        var golden = LlamaCppGolden.Load(model);
        using var source = ModelSource.Open(golden.ModelPath);
        using var b = backend();
        using var transformer = new Transformer(source, b);
        var session = new Session(transformer, storage);
        var logits = new List<float[]> { session.Prefill(golden.PromptTokens(promptId)).ToArray() };
        var tokens = new List<int>();
        for (int i = 0; i < steps; i++)
        {
            int next = ArgMax(logits[^1]);
            tokens.Add(next);
            logits.Add(session.Decode(next).ToArray());
        }
        return (tokens.ToArray(), logits.ToArray());
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
