namespace ManagedKv.Model.Cache;

/// <summary>
/// Spherical linear interpolation of two rows' directions, as MiniCache merges a layer pair (Liu et al., NeurIPS
/// 2024, arXiv:2405.14366): with û = x/‖x‖ and Ω = acos(clamp(û₁·û₂, −1, 1)),
/// e = sin((1−t)Ω)/sinΩ·û₁ + sin(tΩ)/sinΩ·û₂, a unit vector on the great circle from û₁ (t = 0) to û₂ (t = 1).
/// Arithmetic is in double so the angle that decides retention and the direction that is stored agree.
/// </summary>
public static class Slerp
{
    /// <summary>
    /// Below this angle (and within it of π) sin Ω is too small to divide by; the direction is then the normalised
    /// linear interpolation (1−t)û₁ + t·û₂ (the reference reimplementation's threshold, 1e-7 rad).
    /// </summary>
    public const double DegenerateAngle = 1e-7;

    /// <summary>L2 norm of <paramref name="row"/>, accumulated in double.</summary>
    public static double Norm(ReadOnlySpan<float> row)
    {
        double sum = 0;
        foreach (float v in row) sum += (double)v * v;
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// The angle Ω ∈ [0, π] between <paramref name="first"/> and <paramref name="second"/> (MiniCache's angular
    /// distance). A zero row has no direction; its angle to anything is defined as 0, because merging it loses
    /// nothing (its magnitude restores it exactly as 0).
    /// </summary>
    /// <exception cref="ArgumentException">The rows differ in length.</exception>
    public static double Angle(ReadOnlySpan<float> first, ReadOnlySpan<float> second) =>
        Angle(first, second, out _, out _);

    /// <summary>
    /// Writes the merged unit direction of <paramref name="first"/> (û₁, the lower layer) and
    /// <paramref name="second"/> (û₂, the upper layer) at interpolation parameter <paramref name="t"/> to
    /// <paramref name="direction"/> and returns Ω. Degenerate cases, in order: both rows zero → e = 0; one row
    /// zero → e = the other's direction; Ω &lt; <see cref="DegenerateAngle"/> or π − Ω &lt; <see cref="DegenerateAngle"/>
    /// → e = normalise((1−t)û₁ + t·û₂), and when that sum is exactly zero (opposite rows at t = ½) e = û₂ for
    /// t ≥ ½, else û₁.
    /// </summary>
    /// <exception cref="ArgumentException">The rows or the destination differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, 1].</exception>
    public static double Direction(ReadOnlySpan<float> first, ReadOnlySpan<float> second, double t, Span<float> direction)
    {
        if (!(t >= 0 && t <= 1)) throw new ArgumentOutOfRangeException(nameof(t), t, "the interpolation parameter must be in [0, 1]");
        if (direction.Length != first.Length) throw new ArgumentException($"direction has {direction.Length} elements, the rows {first.Length}");
        double omega = Angle(first, second, out double n1, out double n2);
        if (n1 == 0 && n2 == 0)
        {
            direction.Clear();
            return omega;
        }
        if (n1 == 0 || n2 == 0)
        {
            Scale(n1 == 0 ? second : first, 1 / (n1 == 0 ? n2 : n1), direction);
            return omega;
        }

        double w1, w2;
        if (omega < DegenerateAngle || Math.PI - omega < DegenerateAngle)
        {
            // Normalised lerp: ‖(1−t)û₁ + t·û₂‖ from the components, so a zero sum is caught exactly.
            w1 = (1 - t) / n1;
            w2 = t / n2;
            double sum = 0;
            for (int i = 0; i < first.Length; i++)
            {
                double v = w1 * first[i] + w2 * second[i];
                sum += v * v;
            }
            double norm = Math.Sqrt(sum);
            if (norm == 0)
            {
                if (t >= 0.5) Scale(second, 1 / n2, direction);
                else Scale(first, 1 / n1, direction);
                return omega;
            }
            w1 /= norm;
            w2 /= norm;
        }
        else
        {
            double sinOmega = Math.Sin(omega);
            w1 = Math.Sin((1 - t) * omega) / sinOmega / n1;
            w2 = Math.Sin(t * omega) / sinOmega / n2;
        }
        for (int i = 0; i < first.Length; i++) direction[i] = (float)(w1 * first[i] + w2 * second[i]);
        return omega;
    }

    private static double Angle(ReadOnlySpan<float> first, ReadOnlySpan<float> second, out double n1, out double n2)
    {
        if (first.Length != second.Length) throw new ArgumentException($"rows differ in length: {first.Length} and {second.Length}");
        double dot = 0, s1 = 0, s2 = 0;
        for (int i = 0; i < first.Length; i++)
        {
            double a = first[i], b = second[i];
            dot += a * b;
            s1 += a * a;
            s2 += b * b;
        }
        n1 = Math.Sqrt(s1);
        n2 = Math.Sqrt(s2);
        if (n1 == 0 || n2 == 0) return 0;
        return Math.Acos(Math.Clamp(dot / (n1 * n2), -1.0, 1.0));
    }

    private static void Scale(ReadOnlySpan<float> row, double factor, Span<float> destination)
    {
        for (int i = 0; i < row.Length; i++) destination[i] = (float)(row[i] * factor);
    }
}
