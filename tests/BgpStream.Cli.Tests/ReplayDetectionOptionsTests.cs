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

    /// <summary>
    /// <c>--beacon</c> and <c>--beacon-schedule</c> (DOMAIN.md "Zombie routes"; RIS beacons are announced
    /// every 4 h from 00:00 UTC and withdrawn 2 h later). Three peers announce a beacon prefix and an
    /// ordinary one at 04:00:05; two withdraw both at 04:20 (a flap upstream of them); the third keeps
    /// both until 06:00, the beacon's scheduled withdrawal. By withdrawal consensus both prefixes are
    /// zombies 90 min after 04:20 (05:50). Given as a beacon, the prefix is judged by its schedule: the
    /// third peer's route is the 04:00 announcement and went at its scheduled withdrawal, so it is no
    /// zombie, while the ordinary prefix still is. With a schedule that withdraws 20 min after the
    /// announcement, the beacon is a zombie again, by the schedule (evidence <c>beacon</c>).
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task A_beacon_withdrawn_on_its_schedule_is_no_zombie_while_an_ordinary_prefix_withdrawn_alike_is()
    {
        var beacon = IpPrefix.Parse("84.205.64.0/24");
        var ordinary = IpPrefix.Parse("203.0.113.0/24");
        var day = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
        long At(int hours, int minutes, int seconds = 0) => SyntheticMrt.At(day.AddHours(hours).AddMinutes(minutes).AddSeconds(seconds));
        SyntheticMrt.Peer[] peers = [.. Enumerable.Range(1, 3).Select(i =>
            new SyntheticMrt.Peer(IPAddress.Parse($"192.0.2.{20 + i}"), 64620u + (uint)i, IPAddress.Parse("192.0.2.1")))];
        var mrt = new SyntheticMrt();
        foreach (var p in peers)
        {
            mrt.Establish(At(3, 59), p);
            mrt.Keepalives(p, At(4, 0), At(7, 40), everySeconds: 60);
            mrt.Announce(At(4, 0, 5), p, beacon, ordinary);
        }
        foreach (var p in peers[..2]) mrt.Withdraw(At(4, 20), p, beacon, ordinary);
        mrt.Withdraw(At(6, 0), peers[2], beacon, ordinary);
        var file = Path.Combine(_dir, "updates.beacon.mrt");
        mrt.WriteTo(file);
        string keeper = peers[2].Ip;

        var consensus = Zombies(await SyntheticMrt.ReplayEventsAsync(file));
        Assert.Equal([$"zombie_route {beacon} {keeper}", $"zombie_route {ordinary} {keeper}", $"zombie_cleared {beacon} {keeper}", $"zombie_cleared {ordinary} {keeper}"],
            consensus.Select(z => z.Key));

        var bySchedule = Zombies(await SyntheticMrt.ReplayEventsAsync(file, "--beacon", beacon.ToString()));
        Assert.Equal([$"zombie_route {ordinary} {keeper}", $"zombie_cleared {ordinary} {keeper}"], bySchedule.Select(z => z.Key));
        Assert.False(bySchedule[0].Json.GetProperty("evidence").TryGetProperty("beacon", out _));

        var shortUp = Zombies(await SyntheticMrt.ReplayEventsAsync(file, "--beacon", beacon.ToString(), "--beacon-schedule", "4h,20m"));
        var stale = shortUp.Single(z => z.Key == $"zombie_route {beacon} {keeper}").Json.GetProperty("evidence");
        Assert.Equal(("true", "2025-03-01T04:00:00.000Z", "2025-03-01T04:20:00.000Z"),
            (stale.GetProperty("beacon").GetString(), stale.GetProperty("scheduled_announcement").GetString(), stale.GetProperty("scheduled_withdrawal").GetString()));
        Assert.Contains(shortUp, z => z.Key == $"zombie_route {ordinary} {keeper}");
    }

    /// <summary>Bad detection options stop <c>replay</c> before it reads anything: exit status 2 and a message naming the option and the value.</summary>
    [Theory(Timeout = 60_000)]
    [InlineData("--lan", "192.0.2.0", "--lan '192.0.2.0' is not a CIDR prefix")]
    [InlineData("--beacon", "84.205.64.1/24", "--beacon '84.205.64.1/24' is not a prefix without host bits")]
    [InlineData("--beacon", "84.205.64.0", "--beacon '84.205.64.0' is not a prefix without host bits")]
    [InlineData("--beacon-schedule", "4h", "--beacon-schedule '4h': give EVERY,UP[,OFFSET]")]
    [InlineData("--beacon-schedule", "2h,4h", "--beacon-schedule '2h,4h': UP must be more than 0 and less than EVERY")]
    [InlineData("--beacon-schedule", "4h,2x", "--beacon-schedule '4h,2x': '2x' is not a duration")]
    public async Task Bad_detection_options_are_refused_with_the_option_named(string option, string value, string message)
    {
        var (exit, _, stderr) = await ProgramRun.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "bgpstream.dll"), "replay", "--stdout", option, value, Path.Combine(_dir, "never-read.mrt")]);
        Assert.Equal(2, exit);
        Assert.Contains($"bgpstream replay: {message}", stderr, StringComparison.Ordinal);
    }

    private static List<(string Key, JsonElement Json)> Zombies(List<JsonElement> events) =>
        [.. events.Where(e => Type(e).StartsWith("zombie_", StringComparison.Ordinal)).Select(e => ($"{Type(e)} {e.GetProperty("prefix").GetString()} {Peers(e)}", e))];

    private static string Type(JsonElement e) => e.GetProperty("type").GetString()!;

    private static string Peers(JsonElement e) =>
        string.Join(',', e.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()).Order(StringComparer.Ordinal));
}
