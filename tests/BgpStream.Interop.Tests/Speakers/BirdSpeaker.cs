using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// BIRD 2 (Debian <c>bird2</c>, 2.0.12): <c>bird -f</c> with its own config and control socket, routes
/// originated by static protocols (blackhole routes whose attributes are set by one BIRD function
/// per attribute profile). Alternate paths live in a second pair of static protocols, so with
/// <c>add paths tx</c> BIRD exports both paths of those prefixes.
/// </summary>
public sealed partial class BirdSpeaker(SpeakerOptions options) : BgpSpeaker("bird", options)
{
    private const string Protocol = "collector";

    public static SpeakerFeatures StaticFeatures { get; } = new()
    {
        CustomPort = true,
        AddPathSend = true,
        MultiplePathsPerPrefix = true,
        ExtendedMessage = true,
        Md5 = true,
        ShutdownCommunication = true,
    };

    public override SpeakerFeatures Features => StaticFeatures;
    protected override IReadOnlyList<string> RequiredExecutables => ["bird", "birdc"];
    private string Socket => Directory.File("bird.ctl");

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var config = Directory.File("bird.conf");
        await File.WriteAllTextAsync(config, BuildConfig(), cancellationToken).ConfigureAwait(false);
        await CliAsync("bird", ["-p", "-c", config], cancellationToken: cancellationToken).ConfigureAwait(false);
        StartDaemon("bird", "bird", ["-f", "-c", config, "-s", Socket, "-P", Directory.File("bird.pid")]);
        int expected = RoutesToOriginate().Count();
        await WaitUntilAsync(async () => await LoadedRouteCountAsync(cancellationToken).ConfigureAwait(false) == expected,
            TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    private Task<ProcessResult> BirdcAsync(CancellationToken cancellationToken, params string[] command) =>
        CliAsync("birdc", ["-s", Socket, .. command], TimeSpan.FromSeconds(60), cancellationToken: cancellationToken);

    private async Task<int> LoadedRouteCountAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Socket)) return -1;
        var r = await BirdcAsync(cancellationToken, "show", "route", "count").ConfigureAwait(false);
        // "12000 of 12000 routes for 11000 networks in table master4" (one line per table, or a total line)
        return CountRegex().Matches(r.Stdout).Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    public override async Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Socket)) return false;
        var r = await BirdcAsync(cancellationToken, "show", "protocols", Protocol).ConfigureAwait(false);
        return r.Stdout.Contains("Established", StringComparison.Ordinal);
    }

    protected override async Task<string> DescribeSessionAsync(CancellationToken cancellationToken) =>
        (await BirdcAsync(cancellationToken, "show", "protocols", "all", Protocol).ConfigureAwait(false)).Stdout;

    /// <summary>
    /// <c>birdc show route export collector all</c>. BIRD shows the routes its export filter passes,
    /// before the BGP encoder prepends the local AS and sets next hop self (RFC 4271 §5.1.2, §5.1.3
    /// for eBGP), so those two steps are applied here. BIRD does not print ADD-PATH path ids (0).
    /// </summary>
    public override async Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default)
    {
        var r = await BirdcAsync(cancellationToken, "show", "route", "export", Protocol, "all").ConfigureAwait(false);
        return ParseShowRouteAll(r.Stdout, Options);
    }

    public override Task WithdrawAllAsync(CancellationToken cancellationToken = default) =>
        BirdcAsync(cancellationToken, "disable", "\"routes*\"");

    public override Task ShutdownAsync(string text, CancellationToken cancellationToken = default) =>
        BirdcAsync(cancellationToken, "disable", Protocol, Quote(text));

    public override Task EnableAsync(CancellationToken cancellationToken = default) =>
        BirdcAsync(cancellationToken, "enable", Protocol);

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private string BuildConfig()
    {
        var o = Options;
        var sb = new StringBuilder();
        sb.AppendLine(Invariant($"router id {o.EffectiveRouterId};"));
        sb.AppendLine("log stderr all;");
        sb.AppendLine("protocol device { }");
        // BIRD 2 sends MED to an eBGP peer only if the export filter set it (RFC 4271 §5.1.4 keeps
        // a received MED inside the AS), so static routes carry it in a custom attribute.
        sb.AppendLine("attribute int bgpstream_med;");
        var routes = RoutesToOriginate().ToArray();
        foreach (var profile in routes.Select(r => r.Attributes).DistinctBy(a => a.Id)) AppendFunction(sb, profile);
        AppendStatic(sb, "routes4", "ipv4", routes.Where(r => !r.IsIPv6 && r.PathIndex == 0));
        AppendStatic(sb, "routes6", "ipv6", routes.Where(r => r.IsIPv6 && r.PathIndex == 0));
        AppendStatic(sb, "routes4b", "ipv4", routes.Where(r => !r.IsIPv6 && r.PathIndex == 1));
        AppendStatic(sb, "routes6b", "ipv6", routes.Where(r => r.IsIPv6 && r.PathIndex == 1));

        sb.AppendLine(Invariant($"protocol bgp {Protocol} {{"));
        sb.AppendLine(Invariant($"  local {o.LocalAddress} as {o.LocalAs};"));
        sb.AppendLine(Invariant($"  neighbor {o.CollectorAddress} port {o.CollectorPort} as {o.CollectorAs};"));
        // multihop: BIRD does not treat a neighbor reached over lo as directly connected.
        sb.AppendLine("  multihop;");
        sb.AppendLine(Invariant($"  hold time {o.HoldTime};"));
        sb.AppendLine(o.ConnectRetry is { } retry
            ? Invariant($"  connect delay time 1; connect retry time {retry}; error wait time 1, {retry};")
            : "  connect delay time 1; connect retry time 2; error wait time 1, 4;");
        if (o.ExtendedMessage) sb.AppendLine("  enable extended messages on;");
        if (o.Md5Password is { } pw) sb.AppendLine($"  password {Quote(pw)};");
        string addPaths = o.AddPathSend ? " add paths tx;" : "";
        string nh4 = o.IsIPv6Transport ? Invariant($" next hop address {o.NextHop4};") : "";
        string nh6 = o.IsIPv6Transport ? "" : Invariant($" next hop address {o.NextHop6};");
        const string export = "export filter { if defined(bgpstream_med) then bgp_med = bgpstream_med; accept; };";
        sb.AppendLine($"  ipv4 {{ import none; {export}{addPaths}{nh4} }};");
        sb.AppendLine($"  ipv6 {{ import none; {export}{addPaths}{nh6} }};");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static void AppendStatic(StringBuilder sb, string name, string channel, IEnumerable<GeneratedRoute> routes)
    {
        sb.AppendLine(Invariant($"protocol static {name} {{ {channel};"));
        foreach (var r in routes) sb.AppendLine(Invariant($"  route {r.Prefix} blackhole {{ a{r.Attributes.Id}(); }};"));
        sb.AppendLine("}");
    }

    private static void AppendFunction(StringBuilder sb, RouteAttributes a)
    {
        sb.AppendLine(Invariant($"function a{a.Id}() {{"));
        sb.AppendLine($"  bgp_origin = {(a.Origin switch { 0 => "ORIGIN_IGP", 1 => "ORIGIN_EGP", _ => "ORIGIN_INCOMPLETE" })};");
        if (a.Med is { } med) sb.AppendLine(Invariant($"  bgpstream_med = {med};"));
        // prepend() puts an AS in front, so the path is built from its last hop.
        for (int i = a.AsPath.Count - 1; i >= 0; i--) sb.AppendLine(Invariant($"  bgp_path.prepend({a.AsPath[i]});"));
        foreach (var c in a.Communities) sb.AppendLine(Invariant($"  bgp_community.add(({c >> 16},{c & 0xFFFF}));"));
        foreach (var (g, l1, l2) in a.LargeCommunities) sb.AppendLine(Invariant($"  bgp_large_community.add(({g},{l1},{l2}));"));
        foreach (var e in a.ExtCommunities) sb.AppendLine(Invariant($"  bgp_ext_community.add((rt, {RouteSet.FormatRouteTarget(e, out _).Replace(":", ", ", StringComparison.Ordinal)}));"));
        sb.AppendLine("}");
    }

    /// <summary>Parses <c>show route ... all</c> into routes, applying eBGP next hop self and AS prepend.</summary>
    internal static IReadOnlyList<BgpRoute> ParseShowRouteAll(string text, SpeakerOptions o)
    {
        var routes = new List<BgpRoute>();
        string? prefix = null;
        Dictionary<string, string>? attrs = null;
        string? lastKey = null;
        void Flush()
        {
            if (prefix is null || attrs is null) return;
            bool v6 = prefix.Contains(':', StringComparison.Ordinal);
            string path = attrs.GetValueOrDefault("BGP.as_path", "").Trim();
            path = path.Length == 0 ? o.LocalAs.ToString(CultureInfo.InvariantCulture) : $"{o.LocalAs} {path}";
            path = SetRegex().Replace(path, m => "{" + string.Join(',', m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)) + "}");
            routes.Add(new BgpRoute(prefix, 0, path, o.NextHop(v6).ToString(), attrs.GetValueOrDefault("BGP.origin", "IGP").ToUpperInvariant(),
                attrs.TryGetValue("BGP.med", out var med) ? uint.Parse(med, CultureInfo.InvariantCulture) : null,
                BgpRoute.SortCommunities(PairRegex().Matches(attrs.GetValueOrDefault("BGP.community", ""))
                    .Select(m => uint.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) << 16 | uint.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))),
                BgpRoute.SortLargeCommunities(TripleRegex().Matches(attrs.GetValueOrDefault("BGP.large_community", ""))
                    .Select(m => (U(m.Groups[1]), U(m.Groups[2]), U(m.Groups[3])))),
                BgpRoute.SortExtCommunities(ExtRegex().Matches(attrs.GetValueOrDefault("BGP.ext_community", "")).Select(ParseExt))));
            attrs = null;
        }
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('\t'))
            {
                if (attrs is null) continue;
                // Long values continue on lines indented by two tabs.
                if (line.StartsWith("\t\t", StringComparison.Ordinal) && lastKey is not null)
                {
                    attrs[lastKey] += " " + line.Trim();
                    continue;
                }
                int colon = line.IndexOf(": ", StringComparison.Ordinal);
                if (colon > 0)
                {
                    lastKey = line[1..colon].Trim();
                    attrs[lastKey] = line[(colon + 2)..];
                }
                continue;
            }
            var m = RouteLineRegex().Match(line);
            if (!m.Success) continue;
            Flush();
            if (m.Groups[1].Success) prefix = BgpRoute.CanonicalPrefix(m.Groups[1].Value);
            attrs = new Dictionary<string, string>(StringComparer.Ordinal);
        }
        Flush();
        return routes;
    }

    private static uint U(Group g) => uint.Parse(g.Value, CultureInfo.InvariantCulture);

    private static ulong ParseExt(Match m)
    {
        string kind = m.Groups[1].Value, admin = m.Groups[2].Value, value = m.Groups[3].Value;
        if (kind == "generic")
            return Convert.ToUInt64(admin, 16) << 32 | Convert.ToUInt32(value, 16);
        ulong subtype = kind switch { "rt" => 0x02, "ro" => 0x03, _ => throw new FormatException($"ext community kind {kind}") };
        ulong v = ulong.Parse(value, CultureInfo.InvariantCulture);
        if (admin.Contains('.', StringComparison.Ordinal))
        {
            var b = System.Net.IPAddress.Parse(admin).GetAddressBytes();
            return (0x0100ul | subtype) << 48 | (ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b) << 16 | v;
        }
        ulong asn = ulong.Parse(admin, CultureInfo.InvariantCulture);
        return asn > 0xFFFF ? (0x0200ul | subtype) << 48 | asn << 16 | v : subtype << 48 | asn << 32 | v;
    }

    [GeneratedRegex(@"^(\d+) of \d+ routes", RegexOptions.Multiline)]
    private static partial Regex CountRegex();
    // "10.0.0.0/24          blackhole [routes4 …] * (200)" or, for a further path of the same prefix, an indented line.
    [GeneratedRegex(@"^(?:(\S+/\d+)|\s+)\s+\S.*\[")]
    private static partial Regex RouteLineRegex();
    [GeneratedRegex(@"\{([\d ]+)\}")]
    private static partial Regex SetRegex();
    [GeneratedRegex(@"\((\d+),\s*(\d+)\)")]
    private static partial Regex PairRegex();
    [GeneratedRegex(@"\((\d+),\s*(\d+),\s*(\d+)\)")]
    private static partial Regex TripleRegex();
    [GeneratedRegex(@"\((rt|ro|generic),\s*([\w.:]+),\s*(\w+)\)")]
    private static partial Regex ExtRegex();
}
