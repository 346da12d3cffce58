namespace ManagedKv.Model.Cache.Kivi;

/// <summary>
/// KIVI settings (Liu et al., ICML 2024, arXiv:2402.02750): <paramref name="Bits"/>-bit asymmetric codes, groups
/// of <paramref name="Group"/> elements sharing a min and a scale (keys: <paramref name="Group"/> consecutive
/// tokens per channel; values: <paramref name="Group"/> consecutive channels of one token), and a full-precision
/// tail of at most <paramref name="Residual"/> recent tokens.
/// </summary>
/// <param name="Bits">Code width: 2 (KIVI-2, the paper's default) or 4 (KIVI-4).</param>
/// <param name="Group">Group size (the reference example uses 32).</param>
/// <param name="Residual">Full-precision tail length R; a multiple of <paramref name="Group"/> because R keys are
/// quantised at once, in R / Group groups (the reference code asserts the same).</param>
public sealed record KiviFormat(int Bits = 2, int Group = 32, int Residual = 32)
{
    /// <summary>The largest code, 2^bits − 1.</summary>
    public int MaxCode => (1 << Bits) - 1;

    /// <summary>Bytes of one token's packed codes: ⌈width·bits / 8⌉ (rows start on a byte so eviction can move them).</summary>
    public int RowBytes(int width) => (width * Bits + 7) / 8;

    /// <summary>"KIVI b-bit, group g, residual r" (also how plans print in snapshots).</summary>
    public override string ToString() => $"KIVI {Bits}-bit, group {Group}, residual {Residual}";

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">Bits other than 2 or 4, a group below 1, or a residual that is not a
    /// positive multiple of the group.</exception>
    public void Validate()
    {
        if (Bits is not (2 or 4)) throw new ArgumentException($"KIVI bits must be 2 or 4, got {Bits}");
        if (Group < 1) throw new ArgumentException($"KIVI group must be at least 1, got {Group}");
        if (Residual < Group || Residual % Group != 0)
            throw new ArgumentException($"KIVI residual must be a positive multiple of the group ({Group}), got {Residual}");
    }
}
