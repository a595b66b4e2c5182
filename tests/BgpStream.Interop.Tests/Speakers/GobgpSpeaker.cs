using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Support;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// GoBGP (Debian <c>gobgpd</c>, 3.10): <c>gobgpd</c> with a TOML config (no listener, <c>port = -1</c>),
/// its gRPC API on a Unix socket in the temp dir, driven by the <c>gobgp</c> CLI. The table goes in
/// with <c>gobgp mrt inject global</c> from a TABLE_DUMP_V2 file (one CLI call per route would take
/// minutes); alternates come from a second MRT "peer", so the global RIB holds two paths and
/// <c>add-paths send-max</c> sends both.
/// </summary>
public sealed class GobgpSpeaker(SpeakerOptions options) : BgpSpeaker("gobgp", options)
{
    public static SpeakerFeatures StaticFeatures { get; } = new()
    {
        CustomPort = true,
        AddPathSend = true,
        MultiplePathsPerPrefix = true,
        ExtendedMessage = false,
        Md5 = true,
        ShutdownCommunication = true,
    };

    public override SpeakerFeatures Features => StaticFeatures;
    protected override IReadOnlyList<string> RequiredExecutables => ["gobgpd", "gobgp"];
    private string ApiTarget => "unix://" + Directory.File("api.sock");

    private Task<ProcessResult> GobgpAsync(CancellationToken cancellationToken, params string[] args) =>
        CliAsync("gobgp", ["--target", ApiTarget, .. args], TimeSpan.FromSeconds(90), cancellationToken: cancellationToken);

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var config = Directory.File("gobgpd.toml");
        await File.WriteAllTextAsync(config, BuildConfig(), cancellationToken).ConfigureAwait(false);
        StartDaemon("gobgpd", "gobgpd", ["-f", config, "-t", "toml", "--api-hosts", ApiTarget, "--pprof-disable", "-p", "-l", "info"]);
        await WaitUntilAsync(async () => File.Exists(Directory.File("api.sock")) &&
                (await CliAsync("gobgp", ["--target", ApiTarget, "global"], TimeSpan.FromSeconds(10), check: false, cancellationToken: cancellationToken)
                    .ConfigureAwait(false)).ExitCode == 0,
            TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);

        var routes = RoutesToOriginate().ToArray();
        if (routes.Length == 0) return;
        // gobgp 3.10's "mrt inject" returns without closing its gRPC stream (no CloseAndRecv), so
        // whatever is still buffered when it exits is lost. The file therefore holds the table
        // twice: re-adding an identical path from the same source is a no-op, and the second copy
        // pushes the first one through. The path counts confirm it; a short count injects again.
        // A small table is repeated up to ~2,000 paths: two copies of a few routes are lost whole
        // often enough that four attempts in a row fail (seen with 8 routes in the IXP tests).
        var mrt = Directory.File("routes.mrt");
        int copies = Math.Max(2, 2048 / routes.Length);
        await using (var file = File.Create(mrt))
        {
            var o = Options;
            for (int copy = 0; copy < copies; copy++)
                MrtRibWriter.Write(file, routes, [(o.EffectiveRouterId, o.LocalAs), (IPAddress.Parse("192.0.2.251"), o.LocalAs)],
                    o.NextHop4, o.NextHop6);
        }
        int v4 = routes.Count(r => !r.IsIPv6), v6 = routes.Count(r => r.IsIPv6);
        for (int attempt = 1; ; attempt++)
        {
            await GobgpAsync(cancellationToken, "mrt", "inject", "global", mrt).ConfigureAwait(false);
            try
            {
                await WaitUntilAsync(async () => await PathCountAsync("ipv4", cancellationToken).ConfigureAwait(false) == v4
                        && await PathCountAsync("ipv6", cancellationToken).ConfigureAwait(false) == v6,
                    TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException) when (attempt < 4)
            {
            }
        }
    }

    private async Task<int> PathCountAsync(string afi, CancellationToken cancellationToken)
    {
        // "Table afi:AFI_IP safi:SAFI_UNICAST\nDestination: 10000, Path: 10625"
        var r = await GobgpAsync(cancellationToken, "global", "rib", "summary", "-a", afi).ConfigureAwait(false);
        int at = r.Stdout.IndexOf("Path: ", StringComparison.Ordinal);
        return at < 0 ? -1 : int.Parse(r.Stdout[(at + 6)..].Trim(), CultureInfo.InvariantCulture);
    }

    public override async Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Directory.File("api.sock"))) return false;
        var r = await GobgpAsync(cancellationToken, "neighbor", Collector, "-j").ConfigureAwait(false);
        using var doc = JsonDocument.Parse(r.Stdout);
        // session_state 6 = ESTABLISHED (api.PeerState_SessionState)
        return doc.RootElement.TryGetProperty("state", out var s) && s.TryGetProperty("session_state", out var st) &&
               (st.ValueKind == JsonValueKind.Number ? st.GetInt32() == 6 : st.GetString() is "ESTABLISHED" or "established");
    }

    protected override async Task<string> DescribeSessionAsync(CancellationToken cancellationToken) =>
        (await GobgpAsync(cancellationToken, "neighbor", Collector).ConfigureAwait(false)).Stdout;

    /// <summary><c>gobgp neighbor X adj-out -a {afi} -j</c>: GoBGP shows the attributes as sent (own AS prepended, next hop self).</summary>
    public override async Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default)
    {
        var routes = new List<BgpRoute>();
        foreach (var afi in new[] { "ipv4", "ipv6" })
        {
            var r = await GobgpAsync(cancellationToken, "neighbor", Collector, "adj-out", "-a", afi, "-j").ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(r.Stdout) || r.Stdout.Trim() == "null") continue;
            using var doc = JsonDocument.Parse(r.Stdout);
            foreach (var prefix in doc.RootElement.EnumerateObject())
                foreach (var path in prefix.Value.EnumerateArray())
                    routes.Add(ParsePath(BgpRoute.CanonicalPrefix(prefix.Name), path));
        }
        return routes;
    }

    internal static BgpRoute ParsePath(string prefix, JsonElement path)
    {
        string origin = "IGP", asPath = "", nextHop = "";
        uint? med = null;
        var communities = new List<uint>();
        var large = new List<(uint, uint, uint)>();
        var ext = new List<ulong>();
        foreach (var attr in path.GetProperty("attrs").EnumerateArray())
        {
            switch (attr.GetProperty("type").GetInt32())
            {
                case 1: origin = BgpRoute.OriginName(attr.GetProperty("value").GetInt32()); break;
                case 2:
                    var parts = new List<string>();
                    foreach (var seg in attr.TryGetProperty("as_paths", out var segs) ? segs.EnumerateArray() : default)
                    {
                        var asns = seg.GetProperty("asns").EnumerateArray().Select(a => a.GetUInt32().ToString(CultureInfo.InvariantCulture));
                        parts.Add(seg.GetProperty("segment_type").GetInt32() == 1 ? "{" + string.Join(',', asns) + "}" : string.Join(' ', asns));
                    }
                    asPath = string.Join(' ', parts);
                    break;
                case 3: nextHop = attr.GetProperty("nexthop").GetString()!; break;
                case 4: med = attr.GetProperty("metric").GetUInt32(); break;
                case 8: communities.AddRange(attr.GetProperty("communities").EnumerateArray().Select(c => c.GetUInt32())); break;
                case 14: nextHop = attr.GetProperty("nexthop").GetString()!; break;
                case 16: ext.AddRange(attr.GetProperty("value").EnumerateArray().Select(ParseExt)); break;
                case 32:
                    large.AddRange(attr.GetProperty("value").EnumerateArray().Select(l =>
                        (l.GetProperty("ASN").GetUInt32(), l.GetProperty("LocalData1").GetUInt32(), l.GetProperty("LocalData2").GetUInt32())));
                    break;
            }
        }
        uint pathId = path.TryGetProperty("id", out var id) ? id.GetUInt32() : 0;
        return new BgpRoute(prefix, pathId, asPath, BgpRoute.CanonicalAddress(nextHop), origin, med, BgpRoute.SortCommunities(communities),
            BgpRoute.SortLargeCommunities(large), BgpRoute.SortExtCommunities(ext));
    }

    /// <summary>{"type":0,"subtype":2,"value":"64512:100000"}: type 0 2-octet AS, 1 IPv4, 2 4-octet AS in asdot (RFC 4360, RFC 5668).</summary>
    private static ulong ParseExt(JsonElement e)
    {
        ulong type = e.GetProperty("type").GetByte(), subtype = e.GetProperty("subtype").GetByte();
        string value = e.GetProperty("value").GetString()!;
        int colon = value.LastIndexOf(':');
        string admin = value[..colon];
        ulong local = ulong.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture);
        ulong head = type << 56 | subtype << 48;
        return type switch
        {
            0 => head | ulong.Parse(admin, CultureInfo.InvariantCulture) << 32 | local,
            1 => head | (ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(admin).GetAddressBytes()) << 16 | local,
            2 => head | AsDot(admin) << 16 | local,
            _ => throw new FormatException($"extended community {e}"),
        };
    }

    /// <summary>GoBGP prints a 4-octet AS administrator in asdot (RFC 5396): "64086.60779" = 64086 × 65536 + 60779.</summary>
    private static ulong AsDot(string text)
    {
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? ulong.Parse(text, CultureInfo.InvariantCulture)
            : ulong.Parse(text[..dot], CultureInfo.InvariantCulture) << 16 | ulong.Parse(text[(dot + 1)..], CultureInfo.InvariantCulture);
    }

    public override async Task WithdrawAllAsync(CancellationToken cancellationToken = default)
    {
        await GobgpAsync(cancellationToken, "global", "rib", "-a", "ipv4", "del", "all").ConfigureAwait(false);
        await GobgpAsync(cancellationToken, "global", "rib", "-a", "ipv6", "del", "all").ConfigureAwait(false);
    }

    public override Task ShutdownAsync(string text, CancellationToken cancellationToken = default) =>
        GobgpAsync(cancellationToken, "neighbor", Collector, "shutdown", "--reason", text);

    public override Task EnableAsync(CancellationToken cancellationToken = default) =>
        GobgpAsync(cancellationToken, "neighbor", Collector, "enable");

    private string BuildConfig()
    {
        var o = Options;
        var sb = new StringBuilder();
        sb.AppendLine("[global.config]");
        sb.AppendLine(Invariant($"  as = {o.LocalAs}"));
        sb.AppendLine(Invariant($"  router-id = \"{o.EffectiveRouterId}\""));
        sb.AppendLine("  port = -1");
        sb.AppendLine("[[neighbors]]");
        sb.AppendLine("  [neighbors.config]");
        sb.AppendLine(Invariant($"    neighbor-address = \"{o.CollectorAddress}\""));
        sb.AppendLine(Invariant($"    peer-as = {o.CollectorAs}"));
        if (o.Md5Password is { } pw) sb.AppendLine($"    auth-password = \"{pw}\"");
        sb.AppendLine("  [neighbors.transport.config]");
        sb.AppendLine(Invariant($"    local-address = \"{o.LocalAddress}\""));
        sb.AppendLine(Invariant($"    remote-port = {o.CollectorPort}"));
        sb.AppendLine("  [neighbors.timers.config]");
        // GoBGP 3.10 then waits a random [connect-retry, 2 × connect-retry) between attempts. After a
        // session error it first stays 5 s in Idle (holdtimeIdle, fixed; idle-hold-time-after-reset
        // applies to `neighbor reset` only).
        sb.AppendLine(Invariant($"    connect-retry = {o.ConnectRetry ?? 1}"));
        sb.AppendLine(Invariant($"    hold-time = {o.HoldTime}"));
        sb.AppendLine(Invariant($"    keepalive-interval = {Math.Max(1, o.HoldTime / 3)}"));
        foreach (var afi in new[] { "ipv4-unicast", "ipv6-unicast" })
        {
            sb.AppendLine("  [[neighbors.afi-safis]]");
            sb.AppendLine("    [neighbors.afi-safis.config]");
            sb.AppendLine($"      afi-safi-name = \"{afi}\"");
            if (o.AddPathSend)
            {
                sb.AppendLine("    [neighbors.afi-safis.add-paths.config]");
                sb.AppendLine("      send-max = 8");
            }
        }
        return sb.ToString();
    }
}
