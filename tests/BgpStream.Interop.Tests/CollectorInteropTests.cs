using System.Diagnostics;
using System.Net;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;
using BgpStream.Interop.Tests.Support;
using BgpStream.Session;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// The collector against real BGP speakers (issue 3): every element the collector emits (through
/// the JSON lines schema) must equal exactly what the speaker says it exported, IPv4 and IPv6, with
/// ADD-PATH and extended messages where the speaker has them; withdrawals must empty the collector's
/// view; an administrative shutdown's text must arrive decoded; a frozen speaker must make the
/// collector's Hold Timer expire with NOTIFICATION 4/0 and that reason.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class CollectorInteropTests(ITestOutputHelper output)
{
    private const int Ipv4Count = 10_000, Ipv6Count = 2_000;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 180_000)]
    public Task Bird_full_table_over_IPv4() =>
        FullScenarioAsync(o => new BirdSpeaker(o), BirdSpeaker.StaticFeatures, IPAddress.Parse("127.0.11.1"), 65011);

    [Fact(Timeout = 120_000)]
    public Task Bird_IPv6_transport_with_MD5_and_hold_timer() =>
        HoldTimerScenarioAsync(o => new BirdSpeaker(o), BirdSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::11:1"), 4_200_065_011);

    [Fact(Timeout = 180_000)]
    public Task Frr_full_table_over_IPv4() =>
        FullScenarioAsync(o => new FrrSpeaker(o), FrrSpeaker.StaticFeatures, IPAddress.Parse("127.0.12.1"), 65012);

    [Fact(Timeout = 120_000)]
    public Task Frr_IPv6_transport_with_MD5_and_hold_timer() =>
        HoldTimerScenarioAsync(o => new FrrSpeaker(o), FrrSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::12:1"), 4_200_065_012);

    [Fact(Timeout = 180_000)]
    public Task Gobgp_full_table_over_IPv4() =>
        FullScenarioAsync(o => new GobgpSpeaker(o), GobgpSpeaker.StaticFeatures, IPAddress.Parse("127.0.14.1"), 65014);

    [Fact(Timeout = 120_000)]
    public Task Gobgp_IPv6_transport_with_MD5_and_hold_timer() =>
        HoldTimerScenarioAsync(o => new GobgpSpeaker(o), GobgpSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::14:1"), 4_200_065_014);

    [Fact(Timeout = 180_000)]
    public Task Exabgp_full_table_over_IPv4() =>
        FullScenarioAsync(o => new ExaBgpSpeaker(o), ExaBgpSpeaker.StaticFeatures, IPAddress.Parse("127.0.15.1"), 65015);

    [Fact(Timeout = 120_000)]
    public Task Exabgp_IPv6_transport_with_MD5_and_hold_timer() =>
        HoldTimerScenarioAsync(o => new ExaBgpSpeaker(o), ExaBgpSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::15:1"), 4_200_065_015);

    [Fact(Timeout = 180_000)]
    public Task Openbgpd_full_table_over_IPv4() =>
        FullScenarioAsync(o => new OpenBgpdSpeaker(o), OpenBgpdSpeaker.StaticFeatures, IPAddress.Parse("127.0.16.1"), 65016);

    [Fact(Timeout = 120_000)]
    public Task Openbgpd_IPv6_transport_with_MD5_and_hold_timer() =>
        HoldTimerScenarioAsync(o => new OpenBgpdSpeaker(o), OpenBgpdSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::16:1"), 4_200_065_016);

    private async Task FullScenarioAsync(Func<SpeakerOptions, BgpSpeaker> create, SpeakerFeatures features, IPAddress local, uint localAs)
    {
        var watch = Stopwatch.StartNew();
        var routes = RouteSet.Generate(seed: (int)localAs, Ipv4Count, Ipv6Count, new RouteSetOptions
        {
            AlternatePathEvery = features.MultiplePathsPerPrefix ? 16 : 0,
            ExtendedMessageRoute = features.ExtendedMessage,
        });
        var (address, port) = InteropScenario.CollectorEndpoint(features, local);
        await using var collector = new CollectorUnderTest(address, port, [Peer(local, localAs, null)]);
        var options = new SpeakerOptions
        {
            LocalAddress = local,
            LocalAs = localAs,
            CollectorAddress = address,
            CollectorPort = collector.LocalEndPoint.Port,
            HoldTime = 30,
            AddPathSend = features.AddPathSend,
            ExtendedMessage = features.ExtendedMessage,
            Routes = routes,
        };
        await using var speaker = create(options);
        await speaker.StartAsync();
        var session = await collector.WaitForEstablishedAsync(local, Step);
        Log(watch, $"{speaker.Name}: established: {session}");

        var expected = speaker.ExpectedExportedRoutes();
        int expected4 = expected.Count(r => !r.IsIPv6), expected6 = expected.Count(r => r.IsIPv6);
        try
        {
            await session.WaitUntilAsync(s => s.RouteCount(false) >= expected4 && s.RouteCount(true) >= expected6, Step,
                $"{expected4} IPv4 + {expected6} IPv6 paths");
        }
        catch (TimeoutException)
        {
            output.WriteLine(await speaker.DescribeAsync());
            throw;
        }
        await Task.Delay(500); // anything beyond the expected count would arrive now
        Log(watch, $"collector has the table: {session}");
        var exported = await speaker.GetExportedRoutesAsync();
        InteropScenario.AssertSameRoutes(exported, session.Routes, $"collector elements vs what {speaker.Name} says it exported");
        InteropScenario.AssertSameRoutes(expected, exported, $"{speaker.Name}'s exported routes vs the generated table");

        if (options.AddPathSend)
        {
            Assert.All(session.Routes, r => Assert.NotEqual(0u, r.PathId));
            if (features.MultiplePathsPerPrefix) Assert.Contains(session.Routes.GroupBy(r => r.Prefix), g => g.Count() > 1);
        }
        if (options.ExtendedMessage)
        {
            Assert.True(session.RemoteCapabilities.ExtendedMessage, "speaker did not announce the extended message capability");
            Assert.True(session.MaxMessageLength > 4096, $"largest message was {session.MaxMessageLength} octets");
        }

        await speaker.WithdrawAllAsync();
        await session.WaitUntilAsync(s => s.RouteCount(false) == 0 && s.RouteCount(true) == 0, Step, "all paths withdrawn");
        Log(watch, $"withdrawn: {session}");

        const string text = "BgpStream interop: maintenance ✓ (RFC 9003)";
        await speaker.ShutdownAsync(text);
        await session.Completion.WaitAsync(Step);
        Log(watch, $"closed: {session.CloseReason} {session.Notification}");
        Assert.Equal("notification_received", session.CloseReason);
        Assert.False(session.NotificationSent);
        Assert.Equal((6, 2), (session.Notification!.Code, session.Notification.Subcode));
        if (features.ShutdownCommunication) Assert.Equal(text, session.Notification.ShutdownCommunication);
    }

    /// <summary>IPv6 transport, TCP-MD5 where the speaker has it, a small table; then SIGSTOP until our Hold Timer expires.</summary>
    private async Task HoldTimerScenarioAsync(Func<SpeakerOptions, BgpSpeaker> create, SpeakerFeatures features, IPAddress local, uint localAs)
    {
        var watch = Stopwatch.StartNew();
        string? password = features.Md5 ? "bgpstream-md5" : null;
        await using var localAddress = await Helpers.LoopbackAddress.EnsureAsync(local);
        await using var collector = new CollectorUnderTest(IPAddress.IPv6Loopback, features.CustomPort ? 0 : 179, [Peer(local, localAs, password)]);
        var options = new SpeakerOptions
        {
            LocalAddress = local,
            LocalAs = localAs,
            CollectorAddress = IPAddress.IPv6Loopback,
            CollectorPort = collector.LocalEndPoint.Port,
            HoldTime = 9,
            Md5Password = password,
            Routes = RouteSet.Generate(seed: 7, 100, 50),
        };
        await using var speaker = create(options);
        await speaker.StartAsync();
        var session = await collector.WaitForEstablishedAsync(local, Step);
        Log(watch, $"{speaker.Name}: established over IPv6{(password is null ? "" : " with TCP-MD5")}: {session}");
        await session.WaitUntilAsync(s => s.RouteCount(false) == 100 && s.RouteCount(true) == 50, Step, "150 paths");
        InteropScenario.AssertSameRoutes(await speaker.GetExportedRoutesAsync(), session.Routes, "collector elements vs the speaker's export");

        speaker.Freeze();
        try
        {
            await session.Completion.WaitAsync(TimeSpan.FromSeconds(9 + 5));
            Log(watch, $"hold timer: {session.CloseReason} {session.Notification}");
            Assert.Equal("hold_timer_expired", session.CloseReason);
            Assert.True(session.NotificationSent);
            Assert.Equal((4, 0), (session.Notification!.Code, session.Notification.Subcode));
        }
        finally
        {
            speaker.Thaw();
        }
    }

    private static PeerConfig Peer(IPAddress local, uint asn, string? password) => new()
    {
        Range = new IPNetwork(local, local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128),
        RemoteAs = [asn],
        Md5Password = password,
    };



    private void Log(Stopwatch watch, string message) => output.WriteLine($"[{watch.Elapsed.TotalSeconds,6:F1}s] {message}");
}
