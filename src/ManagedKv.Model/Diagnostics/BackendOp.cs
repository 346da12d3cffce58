namespace ManagedKv.Model.Diagnostics;

/// <summary>The timed operations of <see cref="Inference.IBackend"/> (what a <see cref="TimedBackend"/> reports).</summary>
public enum BackendOp
{
    /// <summary><see cref="Inference.IBackend.Embed"/>.</summary>
    Embed,
    /// <summary><see cref="Inference.IBackend.RmsNorm"/>.</summary>
    RmsNorm,
    /// <summary><see cref="Inference.IBackend.MatMul"/>.</summary>
    MatMul,
    /// <summary><see cref="Inference.IBackend.AddBias"/>.</summary>
    AddBias,
    /// <summary><see cref="Inference.IBackend.Rope"/>.</summary>
    Rope,
    /// <summary><see cref="Inference.IBackend.AppendKv"/>.</summary>
    AppendKv,
    /// <summary><see cref="Inference.IBackend.Attention"/> (with or without statistics).</summary>
    Attention,
    /// <summary><see cref="Inference.IBackend.SwiGlu"/>.</summary>
    SwiGlu,
    /// <summary><see cref="Inference.IBackend.CopyRows"/>.</summary>
    CopyRows,
    /// <summary><see cref="Inference.IBackend.Add"/>.</summary>
    Add,
    /// <summary><see cref="Inference.IBackend.Download"/>.</summary>
    Download,
    /// <summary>A backend press-scoring kernel (<see cref="Compression.IPressScoring.TryScore"/>).</summary>
    PressScoring,
}
