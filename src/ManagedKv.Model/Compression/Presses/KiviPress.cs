using ManagedKv.Model.Cache.Kivi;

namespace ManagedKv.Model.Compression.Presses;

/// <summary>
/// KIVI: tuning-free asymmetric 2-bit (or 4-bit) KV-cache quantisation. Liu et al., "KIVI: A Tuning-Free Asymmetric
/// 2bit Quantization for KV Cache", ICML 2024 (arXiv:2402.02750). Keys are quantised per channel (groups of
/// <c>group</c> consecutive tokens share each channel's min and scale), values per token (groups of <c>group</c>
/// channels), with f16 mins and scales and bit-packed codes; the most recent tokens stay in full precision
/// (<c>residual</c>: keys keep n mod R, flushed R at a time; values keep the last R). After a layer's prefill the
/// press returns a <see cref="QuantizePlan"/>; from then on the storage quantises decoded tokens as they are
/// appended, so decoding needs no plan. Attention reads the packed codes directly (KvRows.DotRows/AccumulateRows).
/// Quantisation happens when a token is appended, before that step's attention, as in the paper's algorithm; the
/// reference code quantises after the step's attention, so there a flushed token is seen unquantised one step longer.
/// It removes no tokens: the compression ratio / token budget is ignored, and the cache's byte count gives the
/// effective ratio. Composes after an eviction press (e.g. LagKV + KIVI): later evictions drop codes without
/// re-quantising.
/// </summary>
public sealed class KiviPress : IKvPress
{
    /// <summary>Registry entry.</summary>
    public static PressDescriptor Descriptor { get; } = new("kivi",
        "quantise keys per channel and values per token to 2/4 bits, recent tokens in full precision (ignores --compression/--token-budget; the cache bytes give the effective ratio)",
        "Liu et al., ICML 2024, arXiv:2402.02750",
        [
            new("bits", "int", "2", "code width: 2 (KIVI-2) or 4 (KIVI-4)"),
            new("group", "int", "32", "group size: tokens per key group (per channel), channels per value group (per token)"),
            new("residual", "int", "32", "full-precision recent tokens R (a multiple of group)"),
        ],
        a => new KiviPress(new KiviFormat(a.Int("bits"), a.Int("group"), a.Int("residual"))))
    {
        UsesBudget = false,
    };

    /// <summary>Creates the press.</summary>
    /// <exception cref="ArgumentException">Invalid bits, group or residual.</exception>
    public KiviPress(KiviFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        format.Validate();
        Format = format;
    }

    /// <inheritdoc/>
    public string Name => "kivi";

    /// <summary>Bits, group and residual length.</summary>
    public KiviFormat Format { get; }

    /// <summary>A plan switching the layer to KIVI storage; null when every head already uses this format.</summary>
    public KvPlan? CompressPrefill(PressContext context)
    {
        for (int h = 0; h < context.Cache.KvHeadCount; h++)
        {
            var head = context.Head(h);
            if (head.Keys is not KiviKeyRows k || k.Format != Format || head.Values is not KiviValueRows v || v.Format != Format)
                return new QuantizePlan(context.Layer, Format);
        }
        return null;
    }

    /// <summary>No plan: the KIVI storage quantises each decoded token as it is appended.</summary>
    public KvPlan? CompressDecode(PressContext context) => null;
}
