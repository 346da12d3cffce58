namespace ManagedKv.Model.Inference;

/// <summary>A half-open range of sequence positions [<see cref="Start"/>, <see cref="End"/>).</summary>
/// <param name="Start">The first position.</param>
/// <param name="End">One past the last position.</param>
public readonly record struct PositionRange(int Start, int End)
{
    /// <summary>Positions in the range (0 when empty).</summary>
    public int Count => Math.Max(0, End - Start);

    /// <summary>Whether <paramref name="position"/> lies in the range.</summary>
    public bool Contains(int position) => position >= Start && position < End;
}
