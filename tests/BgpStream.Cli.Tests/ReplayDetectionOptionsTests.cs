using System.Net;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.TestSupport;

namespace BgpStream.Cli.Tests;

/// <summary>
/// The detection options of <c>replay</c> (docs/detection.md, "Options") through the real CLI, over MRT
/// files written at test time (<see cref="SyntheticMrt"/>).
/// </summary>
public sealed class ReplayDetectionOptionsTests : IDisposable
{
    private static readonly long T0 = SyntheticMrt.At(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private const long S = 1_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-replay-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// <c>--lan</c> twice: four sessions drop together with no NOTIFICATION (RFC 8327 §3.2, involuntary).
    /// The two IPv4 peers sit in different /24s of 203.0.112.0/23, the two IPv6 peers in different /64s
    /// of 2001:db8:ab::/48. Without <c>--lan</c> each session is alone in its default /24 or /64 and
    /// there is no cull; with both LANs given, one cull per configured LAN names its two peers, and
    /// both end when the sessions are back.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Lan_given_twice_groups_sessions_by_the_configured_LANs_instead_of_the_default_prefixes()
    {
        var v4 = IPNetwork.Parse("203.0.112.0/23");
        var v6 = IPNetwork.Parse("2001:db8:ab::/48");
        SyntheticMrt.Peer[] peers =
        [
            new(IPAddress.Parse("203.0.112.10"), 64601, IPAddress.Parse("203.0.112.1")),
            new(IPAddress.Parse("203.0.113.20"), 64602, IPAddress.Parse("203.0.112.1")),
            new(IPAddress.Parse("2001:db8:ab:1::10"), 64603, IPAddress.Parse("2001:db8:ab:1::1")),
            new(IPAddress.Parse("2001:db8:ab:2::20"), 64604, IPAddress.Parse("2001:db8:ab:1::1")),
        ];
        var mrt = new SyntheticMrt();
        for (int i = 0; i < peers.Length; i++)
        {
            mrt.Establish(T0, peers[i]);
            mrt.Keepalives(peers[i], T0 + 30 * S, T0 + 120 * S);
            mrt.Drop(T0 + (150 + i) * S, peers[i]);   // within a second of each other, as a fabric filter cuts them
            mrt.Establish(T0 + 600 * S, peers[i]);
        }
        var file = Path.Combine(_dir, "updates.lan.mrt");
        mrt.WriteTo(file);

        var byDefault = await SyntheticMrt.ReplayEventsAsync(file);
        Assert.DoesNotContain(byDefault, e => Type(e).StartsWith("cull_", StringComparison.Ordinal));

        var configured = await SyntheticMrt.ReplayEventsAsync(file, "--lan", v4.ToString(), "--lan", v6.ToString());
        // In record time: both windows close at the first record after them, then the returns end the culls.
        var culls = configured.Where(e => Type(e).StartsWith("cull_", StringComparison.Ordinal)).ToList();
        Assert.Equal(
        [
            ("cull_start", v4.ToString(), $"{peers[0].Ip},{peers[1].Ip}"), ("cull_start", v6.ToString(), $"{peers[2].Ip},{peers[3].Ip}"),
            ("cull_end", v4.ToString(), $"{peers[0].Ip},{peers[1].Ip}"), ("cull_end", v6.ToString(), $"{peers[2].Ip},{peers[3].Ip}"),
        ], culls.Select(e => (Type(e), e.GetProperty("lan").GetString(), Peers(e))));
        Assert.All(culls, e => Assert.Equal("involuntary", e.GetProperty("class").GetString()));
    }

    private static string Type(JsonElement e) => e.GetProperty("type").GetString()!;

    private static string Peers(JsonElement e) =>
        string.Join(',', e.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()).Order(StringComparer.Ordinal));
}
