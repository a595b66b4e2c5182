using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// OpenBGPD (Debian <c>openbgpd</c>, portable 7.7): <c>bgpd -d -f conf</c> with its control socket
/// (<c>socket</c> in the config) in the temp dir, driven by <c>bgpctl -s sock</c>. Routes are
/// <c>network P set { ... }</c> statements. OpenBGPD cannot originate a foreign AS path: a profile's
/// AS path of N hops becomes <c>prepend-self N</c>, so the collector sees the speaker's AS N+1 times.
/// <c>network</c> gives one path per prefix; ADD-PATH send (<c>announce add-path send all</c>) is
/// negotiated and path ids are sent, but never a second path. No RFC 8654 support in 7.7.
/// </summary>
public sealed class OpenBgpdSpeaker(SpeakerOptions options) : BgpSpeaker("openbgpd", options)
{
    public static SpeakerFeatures StaticFeatures { get; } = new()
    {
        CustomPort = true,
        AddPathSend = true,
        MultiplePathsPerPrefix = false,
        ExtendedMessage = false,
        Md5 = true,
        ShutdownCommunication = true,
        ArbitraryAsPath = false,
    };

    public override SpeakerFeatures Features => StaticFeatures;
    protected override IReadOnlyList<string> RequiredExecutables => ["bgpd", "bgpctl"];
    private string Socket => Directory.File("bgpd.sock");

    private Task<ProcessResult> BgpctlAsync(CancellationToken cancellationToken, params string[] args) =>
        CliAsync("bgpctl", ["-s", Socket, .. args], TimeSpan.FromSeconds(60), cancellationToken: cancellationToken);

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        // The privilege-separated engines chroot to the _openbgpd user's home.
        System.IO.Directory.CreateDirectory("/run/openbgpd");
        var config = Directory.File("bgpd.conf");
        await File.WriteAllTextAsync(config, BuildConfig(withNetworks: true), cancellationToken).ConfigureAwait(false);
        await CliAsync("bgpd", ["-n", "-f", config], cancellationToken: cancellationToken).ConfigureAwait(false);
        StartDaemon("bgpd", "bgpd", ["-d", "-f", config]);
        int expected = RoutesToOriginate().Count();
        await WaitUntilAsync(async () => File.Exists(Socket) && await RibCountAsync(cancellationToken).ConfigureAwait(false) == expected,
            TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> RibCountAsync(CancellationToken cancellationToken)
    {
        var r = await BgpctlAsync(cancellationToken, "-j", "show", "rib").ConfigureAwait(false);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.TryGetProperty("rib", out var rib) ? rib.GetArrayLength() : 0;
    }

    public override async Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Socket)) return false;
        var r = await BgpctlAsync(cancellationToken, "-j", "show", "neighbor", Collector).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.TryGetProperty("neighbors", out var ns) && ns.EnumerateArray()
            .Any(n => n.TryGetProperty("state", out var s) && string.Equals(s.GetString(), "Established", StringComparison.OrdinalIgnoreCase));
    }

    protected override async Task<string> DescribeSessionAsync(CancellationToken cancellationToken) =>
        (await BgpctlAsync(cancellationToken, "show", "neighbor", Collector).ConfigureAwait(false)).Stdout;

    /// <summary>
    /// <c>bgpctl -j show rib out neighbor X detail</c>: the Adj-RIB-Out after filters, with the
    /// eBGP prepend already in the AS path; next hop self is applied when the UPDATE is built, so
    /// it is applied here.
    /// </summary>
    public override async Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default)
    {
        var r = await BgpctlAsync(cancellationToken, "-j", "show", "rib", "out", "neighbor", Collector, "detail").ConfigureAwait(false);
        using var doc = JsonDocument.Parse(r.Stdout);
        var routes = new List<BgpRoute>();
        if (!doc.RootElement.TryGetProperty("rib", out var rib)) return routes;
        foreach (var e in rib.EnumerateArray())
        {
            string prefix = BgpRoute.CanonicalPrefix(e.GetProperty("prefix").GetString()!);
            bool v6 = prefix.Contains(':', StringComparison.Ordinal);
            string path = e.GetProperty("aspath").GetString()!.Trim();
            IEnumerable<string> List(string name) =>
                e.TryGetProperty(name, out var l) ? l.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
            routes.Add(new BgpRoute(prefix, e.TryGetProperty("path_id", out var id) ? id.GetUInt32() : 0, path,
                Options.NextHop(v6).ToString(), e.GetProperty("origin").GetString()!.ToUpperInvariant(),
                // bgpctl prints "metric" 0 for a route without MED too, so 0 reads as absent
                // (the generator never makes MED 0).
                e.TryGetProperty("metric", out var m) && m.GetUInt32() != 0 ? m.GetUInt32() : null,
                BgpRoute.SortCommunities(List("communities").Select(BgpRoute.ParseCommunity)),
                BgpRoute.SortLargeCommunities(List("large_communities").Select(t =>
                {
                    var p = t.Split(':');
                    return (uint.Parse(p[0], CultureInfo.InvariantCulture), uint.Parse(p[1], CultureInfo.InvariantCulture), uint.Parse(p[2], CultureInfo.InvariantCulture));
                })),
                BgpRoute.SortExtCommunities(List("extended_communities").Select(t => FrrSpeaker.ParseExtCommunity(t.Replace("rt ", "RT:", StringComparison.Ordinal))))));
        }
        return routes;
    }

    /// <summary>AS path: the speaker's AS once per profile hop (prepend-self) plus the eBGP prepend.</summary>
    public override IReadOnlyList<BgpRoute> ExpectedExportedRoutes() =>
        base.ExpectedExportedRoutes().Zip(RoutesToOriginate(), (e, r) => e with
        {
            AsPath = string.Join(' ', Enumerable.Repeat(Options.LocalAs.ToString(CultureInfo.InvariantCulture), r.Attributes.AsPath.Count + 1)),
        }).ToArray();

    /// <summary>Reloads the config without its network statements: OpenBGPD withdraws them all.</summary>
    public override async Task WithdrawAllAsync(CancellationToken cancellationToken = default)
    {
        await File.WriteAllTextAsync(Directory.File("bgpd.conf"), BuildConfig(withNetworks: false), cancellationToken).ConfigureAwait(false);
        await BgpctlAsync(cancellationToken, "reload").ConfigureAwait(false);
    }

    public override Task ShutdownAsync(string text, CancellationToken cancellationToken = default) =>
        BgpctlAsync(cancellationToken, "neighbor", Collector, "down", text);

    /// <summary><c>bgpctl neighbor X up</c>: clears the down flag and starts the session at once.</summary>
    public override Task EnableAsync(CancellationToken cancellationToken = default) =>
        BgpctlAsync(cancellationToken, "neighbor", Collector, "up");

    private string BuildConfig(bool withNetworks)
    {
        var o = Options;
        var sb = new StringBuilder();
        sb.AppendLine(Invariant($"AS {o.LocalAs}"));
        sb.AppendLine(Invariant($"router-id {o.EffectiveRouterId}"));
        sb.AppendLine($"socket \"{Socket}\"");
        // Without "listen on", bgpd binds *:179, which a collector on 127.x:179 would then collide with.
        // In its own namespace nothing else listens, and the host cannot bind the member's address.
        sb.AppendLine(o.Namespace is null
            ? Invariant($"listen on {o.LocalAddress} port {FreePort(o.LocalAddress)}")
            : Invariant($"listen on {o.LocalAddress}"));
        if (o.ConnectRetry is { } retry) sb.AppendLine(Invariant($"connect-retry {retry}"));
        sb.AppendLine("fib-update no");
        sb.AppendLine(Invariant($"holdtime {o.HoldTime}"));
        if (withNetworks)
        {
            foreach (var r in RoutesToOriginate()) sb.AppendLine(Invariant($"network {r.Prefix} set {{ {SetClause(r.Attributes)} }}"));
        }
        sb.AppendLine(Invariant($"neighbor {o.CollectorAddress} {{"));
        sb.AppendLine(Invariant($"  remote-as {o.CollectorAs}"));
        sb.AppendLine("  descr \"collector\"");
        sb.AppendLine(Invariant($"  local-address {o.LocalAddress}"));
        sb.AppendLine(Invariant($"  local-address {(o.IsIPv6Transport ? o.NextHop4 : o.NextHop6)}"));
        sb.AppendLine(Invariant($"  port {o.CollectorPort}"));
        sb.AppendLine(Invariant($"  holdtime {o.HoldTime}"));
        if (o.Md5Password is { } pw) sb.AppendLine($"  tcp md5sig password {pw}");
        if (o.IsIPv6Transport) sb.AppendLine("  multihop 2");
        sb.AppendLine(o.IsIPv6Transport ? "  announce IPv4 unicast" : "  announce IPv6 unicast");
        if (o.AddPathSend) sb.AppendLine("  announce add-path send all");
        sb.AppendLine("}");
        sb.AppendLine("allow to any");
        // The other family's next hop: bgpd would otherwise pick one from the routing table (127.0.0.1, ::1).
        if (o.IsIPv6Transport)
        {
            sb.AppendLine(Invariant($"match to {o.CollectorAddress} prefix 0.0.0.0/0 prefixlen >= 0 set nexthop {o.NextHop4}"));
            sb.AppendLine(Invariant($"match to {o.CollectorAddress} prefix 0.0.0.0/0 prefixlen >= 0 set nexthop no-modify"));
        }
        else sb.AppendLine(Invariant($"match to {o.CollectorAddress} prefix ::/0 prefixlen >= 0 set nexthop {o.NextHop6}"));
        return sb.ToString();
    }

    private static string SetClause(RouteAttributes a)
    {
        var parts = new List<string> { $"origin {(a.Origin switch { 0 => "igp", 1 => "egp", _ => "incomplete" })}" };
        if (a.Med is { } med) parts.Add(Invariant($"med {med}"));
        if (a.AsPath.Count > 0) parts.Add(Invariant($"prepend-self {a.AsPath.Count}"));
        parts.AddRange(a.Communities.Select(c => $"community {BgpRoute.FormatCommunity(c)}"));
        parts.AddRange(a.LargeCommunities.Select(l => Invariant($"large-community {l.Global}:{l.Local1}:{l.Local2}")));
        parts.AddRange(a.ExtCommunities.Select(e => $"ext-community rt {RouteSet.FormatRouteTarget(e, out _)}"));
        return string.Join(' ', parts);
    }

    private static int FreePort(IPAddress address)
    {
        using var l = new TcpListener(address, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
