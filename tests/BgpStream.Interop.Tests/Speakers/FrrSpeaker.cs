using System.Globalization;
using System.Text;
using System.Text.Json;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// FRR (Debian <c>frr</c>, 8.4): <c>bgpd</c> alone (<c>-Z</c> no zebra, <c>-n</c> no kernel,
/// <c>-S</c> no privilege drop, <c>-p 0</c> no listener) with its own config and vty socket
/// directory, driven by <c>vtysh --vty_socket</c>. Routes are <c>network</c> statements with one
/// route-map per attribute profile (<c>no bgp network import-check</c>: there is no zebra to
/// resolve them). A <c>network</c> statement makes one local path per prefix, so ADD-PATH send
/// (<c>addpath-tx-all-paths</c>) is negotiated and path ids are sent, but never a second path.
/// </summary>
public sealed class FrrSpeaker(SpeakerOptions options) : BgpSpeaker("frr", options)
{
    private const string BgpdPath = "/usr/lib/frr/bgpd";

    public static SpeakerFeatures StaticFeatures { get; } = new()
    {
        CustomPort = true,
        AddPathSend = true,
        MultiplePathsPerPrefix = false,
        ExtendedMessage = true,
        Md5 = true,
        ShutdownCommunication = true,
    };

    public override SpeakerFeatures Features => StaticFeatures;
    protected override IReadOnlyList<string> RequiredExecutables => [BgpdPath, "vtysh"];

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var config = Directory.File("bgpd.conf");
        await File.WriteAllTextAsync(config, BuildConfig(), cancellationToken).ConfigureAwait(false);
        StartDaemon("bgpd", BgpdPath,
            // --tcli: the config file becomes one northbound transaction. Without it every route-map
            // line is its own commit that revalidates the whole candidate, and 200 route-maps take minutes.
            ["-Z", "-n", "-S", "--tcli", "-f", config, "-i", Directory.File("bgpd.pid"), "--vty_socket", Directory.Path,
             "-A", "127.0.0.1", "-P", "0", "-p", "0", "--log", "stdout", "--log-level", "notifications"]);
        int v4 = RoutesToOriginate().Count(r => !r.IsIPv6), v6 = RoutesToOriginate().Count(r => r.IsIPv6);
        // Route-maps are applied a few seconds after the config is read (route-map update timer).
        await WaitUntilAsync(async () => File.Exists(Directory.File("bgpd.vty"))
                && await PrefixCountAsync("ipv4", cancellationToken).ConfigureAwait(false) == v4
                && await PrefixCountAsync("ipv6", cancellationToken).ConfigureAwait(false) == v6,
            TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> PrefixCountAsync(string afi, CancellationToken cancellationToken)
    {
        var r = await VtyshAsync(cancellationToken, $"show bgp {afi} unicast statistics json").ConfigureAwait(false);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty($"{afi}Unicast")[0].TryGetProperty("totalPrefixes", out var n) ? n.GetInt32() : 0;
    }

    /// <summary>
    /// FRR gives a <c>network</c> route MED 0 (its IGP metric, as no zebra resolves it) unless the
    /// route-map sets one, and sends it to eBGP peers.
    /// </summary>
    public override IReadOnlyList<BgpRoute> ExpectedExportedRoutes() =>
        base.ExpectedExportedRoutes().Select(r => r.Med is null ? r with { Med = 0 } : r).ToArray();

    private Task<ProcessResult> VtyshAsync(CancellationToken cancellationToken, params string[] commands) =>
        CliAsync("vtysh", ["--vty_socket", Directory.Path, "-d", "bgpd", .. commands.SelectMany(c => new[] { "-c", c })],
            TimeSpan.FromSeconds(90), cancellationToken: cancellationToken);

    private Task<ProcessResult> ConfigureAsync(CancellationToken cancellationToken, params string[] lines) =>
        VtyshAsync(cancellationToken, ["configure terminal", Invariant($"router bgp {Options.LocalAs}"), .. lines]);

    public override async Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Directory.File("bgpd.vty"))) return false;
        var r = await VtyshAsync(cancellationToken, $"show bgp neighbors {Collector} json").ConfigureAwait(false);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.TryGetProperty(Collector, out var n) && n.TryGetProperty("bgpState", out var s) && s.GetString() == "Established";
    }

    protected override async Task<string> DescribeSessionAsync(CancellationToken cancellationToken) =>
        (await VtyshAsync(cancellationToken, $"show bgp neighbors {Collector}").ConfigureAwait(false)).Stdout;

    /// <summary>
    /// The prefixes come from <c>show bgp {afi} unicast neighbors X advertised-routes json</c>; that
    /// view has no communities, so each prefix's path is then read with
    /// <c>show bgp {afi} unicast P json</c> (batched, many <c>-c</c> per vtysh). FRR shows the path
    /// before the eBGP prepend and next hop self, which are applied here as FRR applies them on
    /// the wire.
    /// </summary>
    public override async Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default)
    {
        var routes = new List<BgpRoute>();
        foreach (var afi in new[] { "ipv4", "ipv6" })
        {
            var adv = await VtyshAsync(cancellationToken, $"show bgp {afi} unicast neighbors {Collector} advertised-routes json").ConfigureAwait(false);
            List<string> prefixes;
            using (var doc = JsonDocument.Parse(adv.Stdout))
            {
                prefixes = doc.RootElement.TryGetProperty("advertisedRoutes", out var a)
                    ? a.EnumerateObject().Select(p => p.Name).ToList() : [];
            }
            foreach (var chunk in prefixes.Chunk(1000))
            {
                var r = await VtyshAsync(cancellationToken, chunk.Select(p => $"show bgp {afi} unicast {p} json").ToArray()).ConfigureAwait(false);
                foreach (var json in SplitJsonObjects(r.Stdout)) routes.Add(ParseDetail(json));
            }
        }
        return routes;
    }

    private BgpRoute ParseDetail(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        string prefix = BgpRoute.CanonicalPrefix(root.GetProperty("prefix").GetString()!);
        var path = root.GetProperty("paths").EnumerateArray()
            .First(p => p.TryGetProperty("bestpath", out var b) && b.TryGetProperty("overall", out var o) && o.GetBoolean());
        string asPath = path.GetProperty("aspath").GetProperty("string").GetString()!.Trim();
        asPath = asPath.Length == 0 ? Options.LocalAs.ToString(CultureInfo.InvariantCulture) : $"{Options.LocalAs} {asPath}";
        uint? med = path.TryGetProperty("metric", out var m) ? m.GetUInt32() : null;
        // "list" when FRR gives one: its "string" is cut short for long community lists.
        IEnumerable<string> Items(string name) =>
            !path.TryGetProperty(name, out var e) ? []
            : e.TryGetProperty("list", out var l) ? l.EnumerateArray().Select(x => x.GetString()!).ToArray()
            : e.GetProperty("string").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var communities = Items("community").Select(BgpRoute.ParseCommunity);
        var large = Items("largeCommunity").Select(t =>
        {
            var p = t.Split(':');
            return (uint.Parse(p[0], CultureInfo.InvariantCulture), uint.Parse(p[1], CultureInfo.InvariantCulture), uint.Parse(p[2], CultureInfo.InvariantCulture));
        });
        var ext = Items("extendedCommunity").Select(ParseExtCommunity);
        bool v6 = prefix.Contains(':', StringComparison.Ordinal);
        return new BgpRoute(prefix, path.TryGetProperty("addpathTxId", out var id) ? id.GetUInt32() : 0, asPath,
            Options.NextHop(v6).ToString(), path.GetProperty("origin").GetString()!.ToUpperInvariant(), med,
            BgpRoute.SortCommunities(communities), BgpRoute.SortLargeCommunities(large), BgpRoute.SortExtCommunities(ext));
    }

    /// <summary>"RT:64512:100000", "RT:192.0.2.1:5", "RT:4200000001:7" (type from the administrator's form, RFC 4360/5668).</summary>
    internal static ulong ParseExtCommunity(string text)
    {
        var parts = text.Split(':');
        ulong subtype = parts[0] switch { "RT" => 0x02, "SoO" => 0x03, _ => throw new FormatException($"extended community {text}") };
        string admin = parts[1];
        ulong value = ulong.Parse(parts[2], CultureInfo.InvariantCulture);
        if (admin.Contains('.', StringComparison.Ordinal))
            return (0x0100ul | subtype) << 48 | (ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(System.Net.IPAddress.Parse(admin).GetAddressBytes()) << 16 | value;
        ulong asn = ulong.Parse(admin, CultureInfo.InvariantCulture);
        return asn > 0xFFFF ? (0x0200ul | subtype) << 48 | asn << 16 | value : subtype << 48 | asn << 32 | value;
    }

    /// <summary>vtysh prints one JSON document per command, back to back.</summary>
    private static IEnumerable<string> SplitJsonObjects(string text)
    {
        int depth = 0, start = -1;
        bool inString = false, escape = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (escape) escape = false;
                else if (c == '\\') escape = true;
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') inString = true;
            else if (c == '{') { if (depth++ == 0) start = i; }
            else if (c == '}' && --depth == 0) yield return text[start..(i + 1)];
        }
    }

    /// <summary>
    /// <c>no network</c> for every prefix, so FRR withdraws them. (Route-map edits would not do:
    /// under <c>--tcli</c> vtysh's changes to northbound objects such as route-maps stay uncommitted.)
    /// </summary>
    public override async Task WithdrawAllAsync(CancellationToken cancellationToken = default)
    {
        foreach (var family in RoutesToOriginate().GroupBy(r => r.IsIPv6))
        {
            foreach (var chunk in family.Chunk(2000))
            {
                await ConfigureAsync(cancellationToken, [$"address-family {(family.Key ? "ipv6" : "ipv4")} unicast",
                    .. chunk.Select(r => Invariant($"no network {r.Prefix} route-map a{r.Attributes.Id}"))]).ConfigureAwait(false);
            }
        }
    }

    public override Task ShutdownAsync(string text, CancellationToken cancellationToken = default) =>
        ConfigureAsync(cancellationToken, $"neighbor {Collector} shutdown message {text}");

    public override Task EnableAsync(CancellationToken cancellationToken = default) =>
        ConfigureAsync(cancellationToken, $"no neighbor {Collector} shutdown");

    /// <summary>
    /// <c>bgp graceful-shutdown</c> (RFC 8326): FRR re-announces every route with GRACEFUL_SHUTDOWN
    /// 65535:0 (and LOCAL_PREF 0 to iBGP) before the operator takes the session down; <c>no</c> undoes it.
    /// </summary>
    public Task SetGracefulShutdownAsync(bool on, CancellationToken cancellationToken = default) =>
        ConfigureAsync(cancellationToken, on ? "bgp graceful-shutdown" : "no bgp graceful-shutdown");

    private string BuildConfig()
    {
        var o = Options;
        string n = Collector;
        var sb = new StringBuilder();
        sb.AppendLine("frr defaults traditional");
        sb.AppendLine(Invariant($"hostname bgpstream-frr-{o.LocalAs}"));
        var routes = RoutesToOriginate().ToArray();
        foreach (var a in routes.Select(r => r.Attributes).DistinctBy(a => a.Id)) AppendRouteMap(sb, a);
        // Outbound maps: the other family's next hop (eBGP next hop self only knows the transport address).
        sb.AppendLine("route-map export4 permit 100");
        if (o.IsIPv6Transport) sb.AppendLine(Invariant($" set ip next-hop {o.NextHop4}"));
        sb.AppendLine("exit");
        sb.AppendLine("route-map export6 permit 100");
        if (!o.IsIPv6Transport) sb.AppendLine(Invariant($" set ipv6 next-hop global {o.NextHop6}"));
        sb.AppendLine("exit");

        sb.AppendLine(Invariant($"router bgp {o.LocalAs}"));
        sb.AppendLine(Invariant($" bgp router-id {o.EffectiveRouterId}"));
        sb.AppendLine(" no bgp ebgp-requires-policy");
        sb.AppendLine(" no bgp network import-check");
        sb.AppendLine(" no bgp default ipv4-unicast");
        sb.AppendLine(Invariant($" neighbor {n} remote-as {o.CollectorAs}"));
        sb.AppendLine(Invariant($" neighbor {n} port {o.CollectorPort}"));
        sb.AppendLine(Invariant($" neighbor {n} update-source {o.LocalAddress}"));
        // Loopback neighbours are not "connected" as FRR sees it without zebra.
        sb.AppendLine(Invariant($" neighbor {n} disable-connected-check"));
        sb.AppendLine(Invariant($" neighbor {n} timers {Math.Max(1, o.HoldTime / 3)} {o.HoldTime}"));
        sb.AppendLine(Invariant($" neighbor {n} timers connect {o.ConnectRetry ?? 1}"));
        if (o.Md5Password is { } pw) sb.AppendLine(Invariant($" neighbor {n} password {pw}"));
        foreach (var (afi, v6) in new[] { ("ipv4", false), ("ipv6", true) })
        {
            sb.AppendLine(Invariant($" address-family {afi} unicast"));
            foreach (var r in routes.Where(r => r.IsIPv6 == v6)) sb.AppendLine(Invariant($"  network {r.Prefix} route-map a{r.Attributes.Id}"));
            sb.AppendLine(Invariant($"  neighbor {n} activate"));
            sb.AppendLine(Invariant($"  neighbor {n} route-map export{(v6 ? 6 : 4)} out"));
            if (o.AddPathSend) sb.AppendLine(Invariant($"  neighbor {n} addpath-tx-all-paths"));
            sb.AppendLine(" exit-address-family");
        }
        sb.AppendLine("exit");
        return sb.ToString();
    }

    private static void AppendRouteMap(StringBuilder sb, RouteAttributes a)
    {
        sb.AppendLine(Invariant($"route-map a{a.Id} permit 10"));
        sb.AppendLine($" set origin {(a.Origin switch { 0 => "igp", 1 => "egp", _ => "incomplete" })}");
        if (a.Med is { } med) sb.AppendLine(Invariant($" set metric {med}"));
        if (a.AsPath.Count > 0) sb.AppendLine(" set as-path prepend " + string.Join(' ', a.AsPath.Select(x => x.ToString(CultureInfo.InvariantCulture))));
        // FRR's CLI reader splits long lines and matching a 1,000-token command takes minutes, so
        // a long community list is added 40 at a time by entries chained with "continue".
        var chunks = a.Communities.Chunk(40).ToArray();
        if (chunks.Length > 0) sb.AppendLine(" set community " + string.Join(' ', chunks[0].Select(BgpRoute.FormatCommunity)));
        if (a.LargeCommunities.Count > 0)
            sb.AppendLine(" set large-community " + string.Join(' ', a.LargeCommunities.Select(l => Invariant($"{l.Global}:{l.Local1}:{l.Local2}"))));
        if (a.ExtCommunities.Count > 0)
            sb.AppendLine(" set extcommunity rt " + string.Join(' ', a.ExtCommunities.Select(e => RouteSet.FormatRouteTarget(e, out _))));
        for (int i = 1; i < chunks.Length; i++)
        {
            sb.AppendLine(Invariant($" continue {10 + i}"));
            sb.AppendLine("exit");
            sb.AppendLine(Invariant($"route-map a{a.Id} permit {10 + i}"));
            sb.AppendLine(" set community " + string.Join(' ', chunks[i].Select(BgpRoute.FormatCommunity)) + " additive");
        }
        sb.AppendLine("exit");
    }
}
