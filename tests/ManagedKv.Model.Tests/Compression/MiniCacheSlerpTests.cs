using ManagedKv.Model.Cache;

namespace ManagedKv.Model.Tests.Compression;

/// <summary>MiniCache's SLERP of two rows' directions, on vectors whose answer is worked out by hand.</summary>
[TestClass]
public sealed class MiniCacheSlerpTests
{
    private const float Tolerance = 1e-6f;

    [TestMethod]
    public void EndpointsGiveEachLayersDirection()
    {
        float[] a = [3, 4, 0], b = [0, 0, -2];
        AssertClose([0.6f, 0.8f, 0], Direction(a, b, 0));
        AssertClose([0, 0, -1], Direction(a, b, 1));
    }

    [TestMethod]
    public void OrthogonalRowsAtHalfGiveTheNormalisedSum()
    {
        // Ω = π/2 and sin(π/4)/sin(π/2) = 1/√2 for both: e = (û₁ + û₂)/√2, whatever the magnitudes.
        float[] a = [5, 0], b = [0, 0.25f];
        Assert.AreEqual(Math.PI / 2, Slerp.Angle(a, b), 1e-12);
        float r = 1 / MathF.Sqrt(2);
        AssertClose([r, r], Direction(a, b, 0.5));
    }

    [TestMethod]
    public void InterpolatesAlongTheGreatCircle()
    {
        // û₁ at 0°, û₂ at 60°: at t = 0.6 the direction is at 36°, a unit vector.
        float[] a = [2, 0], b = [MathF.Cos(MathF.PI / 3) * 7, MathF.Sin(MathF.PI / 3) * 7];
        Assert.AreEqual(Math.PI / 3, Slerp.Angle(a, b), 1e-6);
        double angle = 0.6 * Math.PI / 3;
        AssertClose([(float)Math.Cos(angle), (float)Math.Sin(angle)], Direction(a, b, 0.6));
    }

    [TestMethod]
    public void NearParallelRowsFallBackToTheNormalisedLerp()
    {
        // Ω ≈ 5e-8 < 1e-7 (acos resolves no angle below ~1.5e-8): e = normalise(0.4·û₁ + 0.6·û₂), worked out here in double.
        float[] a = [1, 0, 0], b = [2, 1e-7f, 0];
        double omega = Slerp.Angle(a, b);
        Assert.IsTrue(omega > 0 && omega < Slerp.DegenerateAngle, $"Ω = {omega}");
        double n2 = Math.Sqrt(4 + (double)1e-7f * 1e-7f);
        double x = 0.4 + 0.6 * (2 / n2), y = 0.6 * (1e-7f / n2);
        double n = Math.Sqrt(x * x + y * y);
        var e = Direction(a, b, 0.6);
        AssertClose([(float)(x / n), (float)(y / n), 0], e);
        Assert.IsTrue(e.All(float.IsFinite));

        // Exactly parallel (Ω = 0): the shared direction.
        AssertClose([0, 1], Direction([0, 3], [0, 8], 0.6));
    }

    [TestMethod]
    public void DegenerateRowsStayFinite()
    {
        AssertClose([0, 0], Direction([0, 0], [0, 0], 0.6));
        AssertClose([0, -1], Direction([0, 0], [0, -4], 0.6));
        AssertClose([1, 0], Direction([9, 0], [0, 0], 0.6));
        Assert.AreEqual(0, Slerp.Angle([0, 0], [1, 2]));
        // Opposite rows: Ω = π; at t = ½ the lerp cancels, so e falls to the upper direction; at t = 0.3 to û₁.
        Assert.AreEqual(Math.PI, Slerp.Angle([1, 0], [-2, 0]), 1e-12);
        AssertClose([-1, 0], Direction([1, 0], [-2, 0], 0.5));
        AssertClose([1, 0], Direction([1, 0], [-2, 0], 0.3));
    }

    [TestMethod]
    public void RejectsBadArguments()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Direction([1, 0], [0, 1], 1.5));
        Assert.ThrowsExactly<ArgumentException>(() => Slerp.Angle([1, 0], [0, 1, 0]));
    }

    private static float[] Direction(float[] a, float[] b, double t)
    {
        var e = new float[a.Length];
        Slerp.Direction(a, b, t, e);
        return e;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], Tolerance, $"element {i}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
    }
}
