using System.Globalization;
using System.Net;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;
using Xunit;

namespace BgpStream.Interop.Tests.Ixp;

/// <summary>
/// One peering LAN in namespaces (<see cref="IxpFabric"/>): the real <c>bgpstream collect</c> at
/// 192.0.2.1 and four real speakers — BIRD .2, FRR .3, GoBGP .4, OpenBGPD .5 — each announcing a few
/// IPv4 and IPv6 routes with Hold Time 9 s, over IPv4 sessions unless <see cref="Ipv6Members"/> puts
/// a speaker's session on IPv6. The collector is given no <c>--lan</c>: it must find 192.0.2.0/24 and
/// 2001:db8:179::/64 as the connected subnets of the sessions. Subclasses choose the collector's
/// detector options, the routes, which sessions use IPv6 and further members.
/// </summary>
public abstract class IxpFixture : IAsyncLifetime
{
    public const ushort HoldTime = 9;
    /// <summary>Speakers retry this often after a drop, so that sessions are back within seconds.</summary>
    public const int ConnectRetry = 2;
    public static readonly TimeSpan EstablishTimeout = TimeSpan.FromSeconds(90);

    public IxpFabric Fabric { get; private set; } = null!;
    public IxpMember CollectorMember { get; private set; } = null!;
    public CollectorProcess Collector { get; private set; } = null!;
    public BirdSpeaker Bird { get; private set; } = null!;
    public FrrSpeaker Frr { get; private set; } = null!;
    public GobgpSpeaker Gobgp { get; private set; } = null!;
    public OpenBgpdSpeaker OpenBgpd { get; private set; } = null!;
    public IReadOnlyList<BgpSpeaker> Speakers { get; private set; } = [];
    /// <summary>How long the first "all Established" took, from the collector's start.</summary>
    public TimeSpan StartupTime { get; private set; }
    public string StartupDetails { get; private set; } = "";

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // xunit does not dispose a fixture whose initialisation failed: nothing may be left running.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Fabric = await IxpFabric.CreateAsync(["collector", "bird", "frr", "gobgp", "openbgpd", .. ExtraMembers]);
        CollectorMember = Fabric["collector"];
        var c = CollectorMember;
        Collector = CollectorProcess.Start(c.Namespace,
        [
            "--listen", $"{c.Ipv4}:179", "--listen", $"[{c.Ipv6}]:179",
            "--asn", "65000", "--router-id", "192.0.2.1",
            "--peer", $"{IxpFabric.Lan4}=any", "--peer", $"{IxpFabric.Lan6}=any",
            "--hold-time", HoldTime.ToString(CultureInfo.InvariantCulture), "--stdout",
            .. CollectorOptions,
        ]);
        // Speakers connect at once; a refused first attempt would cost OpenBGPD and GoBGP their retry waits.
        await Collector.WaitForLogAsync($"listening on {c.Ipv4}:179", TimeSpan.FromSeconds(30));
        Bird = new BirdSpeaker(Options("bird", 65002, seed: 52));
        Frr = new FrrSpeaker(Options("frr", 65003, seed: 53));
        Gobgp = new GobgpSpeaker(Options("gobgp", 65004, seed: 54));
        OpenBgpd = new OpenBgpdSpeaker(Options("openbgpd", 65005, seed: 55));
        Speakers = [Bird, Frr, Gobgp, OpenBgpd];
        var timings = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Speakers.Select(async s =>
        {
            await s.StartAsync();
            timings.Add($"{s.Name} routes loaded {watch.Elapsed.TotalSeconds:F1} s");
            await s.WaitEstablishedAsync(EstablishTimeout);
            timings.Add($"{s.Name} Established {watch.Elapsed.TotalSeconds:F1} s");
        }));
        await WaitAllEstablishedAsync();
        StartupTime = watch.Elapsed;
        StartupDetails = string.Join("; ", timings.Order(StringComparer.Ordinal));
    }

    private SpeakerOptions Options(string member, uint asn, int seed)
    {
        var m = Fabric[member];
        bool ipv6 = Ipv6Members.Contains(member);
        return new SpeakerOptions
        {
            LocalAddress = ipv6 ? m.Ipv6 : m.Ipv4,
            LocalAs = asn,
            CollectorAddress = ipv6 ? CollectorMember.Ipv6 : CollectorMember.Ipv4,
            HoldTime = HoldTime,
            // Routes of the other family than the session's carry the member's own LAN address of that
            // family as next hop.
            Ipv4NextHop = m.Ipv4,
            Ipv6NextHop = m.Ipv6,
            Namespace = m.Namespace,
            ConnectRetry = ConnectRetry,
            Routes = RoutesFor(seed),
        };
    }

    /// <summary>Speakers (by member name) that peer with the collector over IPv6 on the fabric; the others over IPv4.</summary>
    protected virtual IReadOnlySet<string> Ipv6Members => new HashSet<string>();

    /// <summary>Members beyond the collector and the four speakers.</summary>
    protected virtual IReadOnlyList<string> ExtraMembers => [];

    /// <summary><c>collect</c> options beyond the listen addresses, the peers, the Hold Time and <c>--stdout</c>.</summary>
    protected abstract IReadOnlyList<string> CollectorOptions { get; }

    /// <summary>What a speaker announces; <paramref name="seed"/> differs per speaker.</summary>
    protected abstract RouteSet RoutesFor(int seed);

    public IxpMember MemberOf(BgpSpeaker speaker) => Fabric.Members.Single(m => m.Namespace == speaker.Options.Namespace);

    /// <summary>Whether the collector's last state change for <paramref name="peer"/> from line <paramref name="from"/> on is to Established.</summary>
    public bool CollectorSeesEstablished(IPAddress peer, int from = 0) =>
        Collector.Lines(from, l => l.Type == "state" && l.Json.GetProperty("peer_ip").GetString() == peer.ToString())
            .LastOrDefault() is { } last && last.Json.GetProperty("new_state").GetString() == "Established";

    /// <summary>Every speaker and the collector say the four sessions are Established.</summary>
    public async Task WaitAllEstablishedAsync(int from = 0)
    {
        await Task.WhenAll(Speakers.Select(s => s.WaitEstablishedAsync(EstablishTimeout)));
        await ProcessRunner.WaitUntilAsync(
            () => Task.FromResult(Speakers.All(s => CollectorSeesEstablished(s.Options.LocalAddress, from))),
            EstablishTimeout, DescribeAsync, TimeSpan.FromMilliseconds(100));
    }

    /// <summary>
    /// Puts the LAN back as every test expects to find it: no filter, no graceful shutdown, every
    /// session enabled and Established. Commands that find nothing to undo are harmless.
    /// </summary>
    public virtual async Task RestoreAsync()
    {
        if (Fabric.IsBlocked) await Fabric.UnblockBgpAsync();
        await Frr.SetGracefulShutdownAsync(false);
        foreach (var s in Speakers)
        {
            if (!await s.IsEstablishedAsync()) await s.EnableAsync();
        }
        await WaitAllEstablishedAsync();
    }

    /// <summary>Speakers' sessions and output, the fabric's filter and the collector's log, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var s in Speakers)
        {
            sb.AppendLine($"===== {s.Name} ({s.Options.LocalAddress}, AS{s.Options.LocalAs}) =====");
            sb.AppendLine(await s.DescribeAsync());
        }
        try { sb.AppendLine(await Fabric.DescribeAsync()); }
        catch (ProcessFailedException ex) { sb.AppendLine($"(fabric: {ex.Message})"); }
        sb.AppendLine(Collector.Describe());
        return sb.ToString();
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var s in Speakers)
        {
            try { await s.DisposeAsync(); } catch (Exception ex) when (ex is ProcessFailedException or IOException or InvalidOperationException) { }
        }
        Collector?.Dispose();
        if (Fabric is not null) await Fabric.DisposeAsync();
    }
}
