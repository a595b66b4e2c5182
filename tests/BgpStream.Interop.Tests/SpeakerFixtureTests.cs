using System.Diagnostics;
using System.Net;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;
using BgpStream.Interop.Tests.Support;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// Each speaker fixture against <see cref="MinimalPassivePeer"/>: the daemon must say it exported
/// exactly the generated table, the peer must receive exactly that (IPv4 and IPv6, every
/// attribute), withdraw-all must empty the peer's Adj-RIB-In, and an administrative shutdown must
/// arrive as Cease / Administrative Shutdown with the text (RFC 9003). A missing daemon fails.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class SpeakerFixtureTests(ITestOutputHelper output)
{
    private const int Ipv4Count = 10_000, Ipv6Count = 2_000;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 180_000)]
    public Task Bird_Ipv4Transport_AddPath_ExtendedMessage() =>
        FullScenarioAsync(o => new BirdSpeaker(o), BirdSpeaker.StaticFeatures, IPAddress.Parse("127.0.1.1"), 65001);

    [Fact(Timeout = 120_000)]
    public Task Bird_Ipv6Transport_Md5_HoldTimerExpiresWhenFrozen() =>
        SmallScenarioAsync(o => new BirdSpeaker(o), BirdSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::1:1"), 4_200_065_001);

    [Fact(Timeout = 180_000)]
    public Task Frr_Ipv4Transport_AddPath_ExtendedMessage() =>
        FullScenarioAsync(o => new FrrSpeaker(o), FrrSpeaker.StaticFeatures, IPAddress.Parse("127.0.2.1"), 65002);

    [Fact(Timeout = 120_000)]
    public Task Frr_Ipv6Transport_Md5_HoldTimerExpiresWhenFrozen() =>
        SmallScenarioAsync(o => new FrrSpeaker(o), FrrSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::2:1"), 4_200_065_002);

    [Fact(Timeout = 180_000)]
    public Task Gobgp_Ipv4Transport_AddPath() =>
        FullScenarioAsync(o => new GobgpSpeaker(o), GobgpSpeaker.StaticFeatures, IPAddress.Parse("127.0.3.1"), 65003);

    [Fact(Timeout = 120_000)]
    public Task Gobgp_Ipv6Transport_Md5_HoldTimerExpiresWhenFrozen() =>
        SmallScenarioAsync(o => new GobgpSpeaker(o), GobgpSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::3:1"), 4_200_065_003);

    [Fact(Timeout = 180_000)]
    public Task OpenBgpd_Ipv4Transport_AddPath() =>
        FullScenarioAsync(o => new OpenBgpdSpeaker(o), OpenBgpdSpeaker.StaticFeatures, IPAddress.Parse("127.0.5.1"), 65005);

    [Fact(Timeout = 120_000)]
    public Task OpenBgpd_Ipv6Transport_Md5_HoldTimerExpiresWhenFrozen() =>
        SmallScenarioAsync(o => new OpenBgpdSpeaker(o), OpenBgpdSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::5:1"), 4_200_065_005);

    [Fact(Timeout = 180_000)]
    public Task ExaBgp_Ipv4Transport_AddPath_ExtendedMessage() =>
        FullScenarioAsync(o => new ExaBgpSpeaker(o), ExaBgpSpeaker.StaticFeatures, IPAddress.Parse("127.0.4.1"), 65004);

    [Fact(Timeout = 120_000)]
    public Task ExaBgp_Ipv6Transport_Md5_HoldTimerExpiresWhenFrozen() =>
        SmallScenarioAsync(o => new ExaBgpSpeaker(o), ExaBgpSpeaker.StaticFeatures, IPAddress.Parse("2001:db8:0:ffff::4:1"), 4_200_065_004);

    [Fact]
    public async Task A_missing_daemon_fails_the_test_and_points_to_setup_sh()
    {
        await using var speaker = new MissingDaemonSpeaker(new SpeakerOptions
        {
            LocalAddress = IPAddress.Parse("127.0.9.1"),
            LocalAs = 65009,
            CollectorAddress = IPAddress.Loopback,
        });
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => speaker.StartAsync());
        Assert.Contains("scripts/setup.sh --tests", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_a_daemon_cannot_honour_are_refused_up_front()
    {
        var options = new SpeakerOptions
        {
            LocalAddress = IPAddress.Parse("127.0.9.1"),
            LocalAs = 65009,
            CollectorAddress = IPAddress.Loopback,
            ExtendedMessage = true,
        };
        Assert.Throws<NotSupportedException>(() => new GobgpSpeaker(options));
        Assert.Throws<NotSupportedException>(() => new OpenBgpdSpeaker(options));
    }

    [Fact]
    public void The_route_set_is_deterministic_and_varied()
    {
        var a = RouteSet.Generate(42, Ipv4Count, Ipv6Count, new RouteSetOptions { AlternatePathEvery = 16, ExtendedMessageRoute = true });
        var b = RouteSet.Generate(42, Ipv4Count, Ipv6Count, new RouteSetOptions { AlternatePathEvery = 16, ExtendedMessageRoute = true });
        Assert.Equal(a.All.Select(r => (r.Prefix, r.PathIndex, r.Attributes.Id)), b.All.Select(r => (r.Prefix, r.PathIndex, r.Attributes.Id)));
        Assert.Equal(Ipv4Count + 1, a.PrefixCount(ipv6: false));
        Assert.Equal(Ipv6Count, a.PrefixCount(ipv6: true));
        Assert.Equal(a.Primary.Count(), a.Primary.Select(r => r.Prefix).Distinct().Count());
        var profiles = a.Profiles;
        Assert.Contains(profiles, p => p.AsPath.Count >= 20);
        Assert.Contains(profiles, p => p.AsPath.Any(asn => asn > 65535));
        Assert.Contains(profiles, p => p.AsPath.Distinct().Count() < p.AsPath.Count);
        Assert.Equal([0, 1, 2], profiles.Select(p => p.Origin).Distinct().Order());
        Assert.Contains(profiles, p => p.Med is null);
        Assert.Contains(profiles, p => p.LargeCommunities.Count > 0);
        Assert.Equal([0x00, 0x01, 0x02], profiles.SelectMany(p => p.ExtCommunities).Select(e => (int)(e >> 56)).Distinct().Order());
        Assert.Contains(a.All, r => r.PrefixLength != 24 && !r.IsIPv6);
        Assert.Contains(a.All, r => r.PrefixLength != 48 && r.IsIPv6);
    }

    private async Task FullScenarioAsync(Func<SpeakerOptions, BgpSpeaker> create, SpeakerFeatures features, IPAddress local, uint localAs)
    {
        var watch = Stopwatch.StartNew();
        var routes = RouteSet.Generate(seed: (int)localAs, Ipv4Count, Ipv6Count, new RouteSetOptions
        {
            AlternatePathEvery = features.MultiplePathsPerPrefix ? 16 : 0,
            ExtendedMessageRoute = features.ExtendedMessage,
        });
        var (peerAddress, port) = InteropScenario.CollectorEndpoint(features, local);
        await using var peer = new MinimalPassivePeer(peerAddress, port);
        var options = new SpeakerOptions
        {
            LocalAddress = local,
            LocalAs = localAs,
            CollectorAddress = peerAddress,
            CollectorPort = peer.LocalEndPoint.Port,
            HoldTime = 30,
            AddPathSend = features.AddPathSend,
            ExtendedMessage = features.ExtendedMessage,
            Routes = routes,
        };
        await using var speaker = create(options);
        await speaker.StartAsync();
        Log(watch, $"{speaker.Name} started with {routes.Ipv4.Count} IPv4 and {routes.Ipv6.Count} IPv6 paths ({speaker.WorkDirectory})");
        await speaker.WaitEstablishedAsync(Step);
        var session = await peer.WaitForEstablishedAsync(Step);
        Log(watch, $"established: {session}");

        var expected = speaker.ExpectedExportedRoutes();
        int expected4 = expected.Count(r => !r.IsIPv6), expected6 = expected.Count(r => r.IsIPv6);
        await session.WaitUntilAsync(s => s.RouteCount(false) >= expected4 && s.RouteCount(true) >= expected6, Step,
            $"{expected4} IPv4 + {expected6} IPv6 paths");
        await Task.Delay(500); // anything beyond the expected count would arrive now
        Log(watch, $"peer has the table: {session}");
        Assert.Equal(expected4, session.RouteCount(false));
        Assert.Equal(expected6, session.RouteCount(true));
        InteropScenario.AssertSameRoutes(expected, session.Routes, "peer's Adj-RIB-In");

        var exported = await speaker.GetExportedRoutesAsync();
        Log(watch, $"daemon reports {exported.Count} exported paths");
        InteropScenario.AssertSameRoutes(expected, exported, $"{speaker.Name}'s exported routes");

        if (options.AddPathSend)
        {
            Assert.True(session.RemoteCapabilities.AddPathSend.Contains(BgpStream.Bgp.Afi.IPv4, BgpStream.Bgp.Safi.Unicast), "ADD-PATH send IPv4");
            Assert.True(session.RemoteCapabilities.AddPathSend.Contains(BgpStream.Bgp.Afi.IPv6, BgpStream.Bgp.Safi.Unicast), "ADD-PATH send IPv6");
            Assert.All(session.Routes, r => Assert.NotEqual(0u, r.PathId));
            int multi = session.Routes.GroupBy(r => r.Prefix).Count(g => g.Count() > 1);
            if (features.MultiplePathsPerPrefix) Assert.True(multi > 0, "no prefix arrived with two paths");
            else Assert.Equal(0, multi);
        }
        if (options.ExtendedMessage)
        {
            Assert.True(session.RemoteCapabilities.ExtendedMessage, "speaker did not announce the extended message capability");
            Assert.True(session.MaxMessageLength > 4096, $"largest UPDATE was {session.MaxMessageLength} octets");
        }

        await speaker.WithdrawAllAsync();
        await session.WaitUntilAsync(s => s.RouteCount(false) == 0 && s.RouteCount(true) == 0, Step, "all paths withdrawn");
        Log(watch, $"withdrawn: {session}");
        Assert.Empty(await speaker.GetExportedRoutesAsync());

        const string text = "BgpStream interop: maintenance ✓ (RFC 9003)";
        await speaker.ShutdownAsync(text);
        await session.Completion.WaitAsync(Step);
        Log(watch, $"closed: {session.CloseReason}");
        Assert.NotNull(session.Notification);
        Assert.Equal(6, session.Notification.Code);
        Assert.Equal(2, session.Notification.Subcode);
        if (features.ShutdownCommunication) Assert.Equal(text, session.Notification.ShutdownCommunication);
    }

    /// <summary>IPv6 transport, TCP-MD5 when supported, a small table, then SIGSTOP: the speaker must go silent.</summary>
    private async Task SmallScenarioAsync(Func<SpeakerOptions, BgpSpeaker> create, SpeakerFeatures features, IPAddress local, uint localAs)
    {
        var watch = Stopwatch.StartNew();
        var routes = RouteSet.Generate(seed: 7, 100, 50);
        var peerAddress = IPAddress.IPv6Loopback;
        string? password = features.Md5 ? "bgpstream-md5" : null;
        await using var localAddress = await Helpers.LoopbackAddress.EnsureAsync(local);
        await using var peer = new MinimalPassivePeer(peerAddress, features.CustomPort ? 0 : 179,
            md5Keys: password is null ? null : new Dictionary<IPAddress, string> { [local] = password });
        var options = new SpeakerOptions
        {
            LocalAddress = local,
            LocalAs = localAs,
            CollectorAddress = peerAddress,
            CollectorPort = peer.LocalEndPoint.Port,
            HoldTime = 9,
            Md5Password = password,
            Routes = routes,
        };
        await using var speaker = create(options);
        await speaker.StartAsync();
        await speaker.WaitEstablishedAsync(Step);
        var session = await peer.WaitForEstablishedAsync(Step);
        Log(watch, $"established over IPv6{(password is null ? "" : " with TCP-MD5")}: {session}");
        var expected = speaker.ExpectedExportedRoutes();
        await session.WaitUntilAsync(s => s.RouteCount(false) == 100 && s.RouteCount(true) == 50, Step, "150 paths");
        InteropScenario.AssertSameRoutes(expected, session.Routes, "peer's Adj-RIB-In");
        InteropScenario.AssertSameRoutes(expected, await speaker.GetExportedRoutesAsync(), $"{speaker.Name}'s exported routes");

        speaker.Freeze();
        var frozenAt = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(7)); // 9 s hold time: a live speaker sends a KEEPALIVE every 3 s
        Assert.True(session.LastMessageAt < frozenAt.AddSeconds(1), $"frozen speaker still sent at {session.LastMessageAt:O}");
        Assert.True(session.IsEstablished);
        speaker.Thaw();
        await session.WaitUntilAsync(s => s.LastMessageAt > frozenAt.AddSeconds(7), TimeSpan.FromSeconds(10), "a message after thaw");
        Log(watch, "freeze/thaw ok");
    }



    private void Log(Stopwatch watch, string message) => output.WriteLine($"[{watch.Elapsed.TotalSeconds,6:F1}s] {message}");
}

/// <summary>A fixture whose daemon is not installed.</summary>
internal sealed class MissingDaemonSpeaker(SpeakerOptions options) : BgpSpeaker("missing", options)
{
    public override SpeakerFeatures Features { get; } = new();
    protected override IReadOnlyList<string> RequiredExecutables => ["bgpstream-no-such-bgp-daemon"];
    protected override Task StartCoreAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default) => Task.FromResult(false);
    public override Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<BgpRoute>>([]);
    public override Task WithdrawAllAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    public override Task ShutdownAsync(string text, CancellationToken cancellationToken = default) => Task.CompletedTask;
    protected override Task<string> DescribeSessionAsync(CancellationToken cancellationToken) => Task.FromResult("");
}

/// <summary>Daemons run one at a time: the machine has two cores and the tests measure timing-sensitive things.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InteropCollection
{
    public const string Name = "interop";
}
