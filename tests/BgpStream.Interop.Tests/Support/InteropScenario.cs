using System.Net;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;

namespace BgpStream.Interop.Tests.Support;

/// <summary>What the interop scenarios share: where the collector side listens, and route set comparison.</summary>
internal static class InteropScenario
{
    /// <summary>An ephemeral port on 127.0.0.1 where the daemon can dial any port; else 179 on a distinct 127.0.179.x per daemon.</summary>
    public static (IPAddress Address, int Port) CollectorEndpoint(SpeakerFeatures features, IPAddress local)
    {
        if (features.CustomPort) return (IPAddress.Loopback, 0);
        var b = local.GetAddressBytes();
        return (new IPAddress([127, 0, 179, b[2]]), 179);
    }

    /// <summary>
    /// Equal multisets of routes, path ids aside (they are the speaker's choice and not every CLI
    /// shows them); on failure the first differences on each side.
    /// </summary>
    public static void AssertSameRoutes(IEnumerable<BgpRoute> expected, IEnumerable<BgpRoute> actual, string what)
    {
        var want = expected.Select(r => r.WithoutPathId().ToString()).Order(StringComparer.Ordinal).ToList();
        var got = actual.Select(r => r.WithoutPathId().ToString()).Order(StringComparer.Ordinal).ToList();
        if (want.SequenceEqual(got)) return;
        var missing = want.Except(got).Take(5).ToList();
        var extra = got.Except(want).Take(5).ToList();
        Assert.Fail($"{what}: expected {want.Count} paths, got {got.Count}.\nmissing (first 5):\n  {string.Join("\n  ", missing)}\n" +
                    $"unexpected (first 5):\n  {string.Join("\n  ", extra)}");
    }
}
