using ManagedKv.Model.Cache.Kivi;
using ManagedKv.Model.Reference;
using ManagedKv.TestKit;

namespace ManagedKv.Cpu.Tests.Presses;

/// <summary>
/// The one legitimate difference between the CPU pipeline and the reference press matrix's golden files, measured:
/// KIVI's snapshot records a fingerprint of each head's quantised codes and f16 mins/scales, and in one value
/// group per model the CPU forward pass's values (which differ from the reference backend's by ≤ 1e-6, the two
/// backends' summation orders) put the group's scale, (max − min)/3, on the other side of an f16 rounding boundary.
/// Every code and every other min/scale is identical; the kept tokens of every press are identical
/// (<see cref="CpuPressMatrixTests"/>).
/// </summary>
[TestClass]
public sealed class KiviBackendDifferenceTests
{
    /// <summary>Model → the (layer, KV head, token) whose value-group min/scale round to a neighbouring f16 on the CPU backend.</summary>
    public static readonly IReadOnlyDictionary<string, (int Layer, int Head, int Token)> ScaleRoundingFlips = new Dictionary<string, (int, int, int)>
    {
        ["stories260K"] = (4, 3, 156),    // min −1.1582031 vs −1.1591797, scale 0.5961914 vs 0.5966797 (one f16 ulp each)
        ["tiny-llama-F32"] = (1, 1, 123), // min equal, scale 1.4335938 vs 1.4345703 (one f16 ulp)
    };

    [TestMethod]
    [DataRow("stories260K")]
    [DataRow("tiny-llama-F32")]
    public void ValuesDifferOnlyByOneF16UlpOfTheListedGroupsMinAndScale(string model)
    {
        using var reference = PressRun.Start(() => new ReferenceBackend(), model, PressMatrix.Case("kivi"), 0.5);
        using var cpu = PressRun.Start(() => new CpuBackend(2), model, PressMatrix.Case("kivi"), 0.5);
        var (flipLayer, flipHead, flipToken) = ScaleRoundingFlips[model];
        var rc = reference.Session.Cache;
        var cc = cpu.Session.Cache;
        int flips = 0;
        for (int l = 0; l < rc.LayerCount; l++)
            for (int h = 0; h < rc.KvHeadCount; h++)
            {
                var rv = (KiviValueRows)rc.Head(l, h).Values;
                var cv = (KiviValueRows)cc.Head(l, h).Values;
                Assert.AreEqual(rv.QuantizedCount, cv.QuantizedCount);
                Assert.AreEqual(rc.Head(l, h).Keys.Fingerprint, cc.Head(l, h).Keys.Fingerprint, $"layer {l} head {h} keys");
                for (int i = 0; i < rv.Scales.Length; i++)
                {
                    int token = i / rv.ChannelGroups;
                    int minUlps = Ulps(rv.Mins[i], cv.Mins[i]), scaleUlps = Ulps(rv.Scales[i], cv.Scales[i]);
                    if (minUlps == 0 && scaleUlps == 0) continue;
                    Assert.AreEqual((flipLayer, flipHead, flipToken), (l, h, token), $"unlisted min/scale difference at layer {l} head {h} token {token}");
                    Assert.IsTrue(minUlps <= 1 && scaleUlps == 1, $"min {minUlps} ulps, scale {scaleUlps} ulps");
                    flips++;
                }
                // The codes: every quantised row outside the listed token dequantises to the same values.
                var a = new float[rv.Width];
                var b = new float[rv.Width];
                for (int t = 0; t < rv.QuantizedCount; t++)
                {
                    if ((l, h, t) == (flipLayer, flipHead, flipToken)) continue;
                    rv.Read(t, a);
                    cv.Read(t, b);
                    CollectionAssert.AreEqual(a, b, $"layer {l} head {h} token {t}");
                }
            }
        Assert.AreEqual(1, flips, "exactly the listed group differs");
    }

    private static int Ulps(Half a, Half b) => Math.Abs(BitConverter.HalfToInt16Bits(a) - BitConverter.HalfToInt16Bits(b));
}
