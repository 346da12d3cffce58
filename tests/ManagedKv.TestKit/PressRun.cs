using ManagedKv.Model.Compression;
using ManagedKv.Model.Inference;
using ManagedKv.Model.Loading;

namespace ManagedKv.TestKit;

/// <summary>
/// A session on a golden model with a press that has prefilled the story prompt (the press matrix's cell), on any
/// backend.
/// </summary>
public sealed class PressRun : IDisposable
{
    private readonly ModelSource _source;
    private readonly IBackend _backend;
    private readonly Transformer _model;

    private PressRun(Func<IBackend> backend, string model, IKvPress press)
    {
        var golden = LlamaCppGolden.Load(model);
        _source = ModelSource.Open(golden.ModelPath);
        _backend = backend();
        _model = new Transformer(_source, _backend);
        Runner = new PressRunner(_source.Config, [press]) { Record = true };
        Session = new Session(_model) { Compression = Runner };
        Logits = Session.Prefill(golden.PromptTokens("story")).ToArray();
    }

    /// <summary>The runner (its history holds the plans).</summary>
    public PressRunner Runner { get; }

    /// <summary>The session, prefilled.</summary>
    public Session Session { get; }

    /// <summary>The prefill's last logits.</summary>
    public float[] Logits { get; }

    /// <summary>The model's hyper-parameters.</summary>
    public Model.Config.ModelConfig Config => _source.Config;

    /// <summary>Prefills <paramref name="model"/>'s story prompt with <paramref name="pressCase"/> at <paramref name="ratio"/>.</summary>
    public static PressRun Start(Func<IBackend> backend, string model, PressCase pressCase, double ratio,
        IReadOnlyDictionary<string, string>? extra = null) =>
        new(backend, model, PressMatrix.Create(pressCase, ratio, extra));

    /// <inheritdoc/>
    public void Dispose()
    {
        _model.Dispose();
        _backend.Dispose();
        _source.Dispose();
    }
}
