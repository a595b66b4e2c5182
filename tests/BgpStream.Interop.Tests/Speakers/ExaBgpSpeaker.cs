using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// ExaBGP (Debian <c>exabgp</c>, 4.2): one <c>exabgp</c> process with the table as static routes in
/// its config and an API process, a small Python relay that exposes ExaBGP's text API on a Unix
/// socket in the temp dir (no named pipes in /run). ExaBGP sends AS paths verbatim, so the
/// speaker's own AS is written at their head. Alternate paths carry their own path-information
/// and are sent with ADD-PATH. Gaps: <c>teardown 2</c> sends Cease / Administrative Shutdown with
/// ExaBGP's fixed text "Administrative Shutdown", never the caller's.
/// </summary>
public sealed partial class ExaBgpSpeaker(SpeakerOptions options) : BgpSpeaker("exabgp", options)
{
    public static SpeakerFeatures StaticFeatures { get; } = new()
    {
        CustomPort = true,
        AddPathSend = true,
        MultiplePathsPerPrefix = true,
        ExtendedMessage = true,
        Md5 = true,
        ShutdownCommunication = false,
    };

    // Relays each line from a Unix socket client to ExaBGP (our stdout) and ExaBGP's answer
    // (our stdin) back, up to and including the "done"/"error" that ends it. ExaBGP puts its API
    // processes in their own process group, out of reach of the group kill, so the relay asks
    // the kernel for SIGKILL when ExaBGP dies (PR_SET_PDEATHSIG).
    private const string Relay = """
        import ctypes, os, signal, socket, sys
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
        if os.getppid() == 1:
            sys.exit(0)
        path = sys.argv[1]
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(4)
        while True:
            conn, _ = srv.accept()
            with conn, conn.makefile('r') as rf, conn.makefile('w') as wf:
                for line in rf:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                    while True:
                        answer = sys.stdin.readline()
                        if not answer:
                            sys.exit(0)
                        wf.write(answer)
                        wf.flush()
                        if answer.strip() in ('done', 'error'):
                            break
        """;

    public override SpeakerFeatures Features => StaticFeatures;
    protected override IReadOnlyList<string> RequiredExecutables => ["exabgp", "python3"];
    private string ApiSocket => Directory.File("api.sock");

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Directory.File("relay.py"), Relay, cancellationToken).ConfigureAwait(false);
        var config = Directory.File("exabgp.conf");
        await File.WriteAllTextAsync(config, BuildConfig(), cancellationToken).ConfigureAwait(false);
        var env = new Dictionary<string, string>
        {
            ["exabgp.daemon.daemonize"] = "false",
            ["exabgp.daemon.user"] = "root",
            ["exabgp.daemon.drop"] = "false",
            ["exabgp.log.destination"] = "stdout",
            ["exabgp.api.cli"] = "false",
            ["exabgp.api.ack"] = "true",
            ["exabgp.tcp.bind"] = "",
        };
        StartDaemon("exabgp", "exabgp", [config], env);
        await WaitUntilAsync(() => Task.FromResult(File.Exists(ApiSocket)), TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one API command and returns its output lines (without the closing "done").</summary>
    public async Task<IReadOnlyList<string>> ApiAsync(string command, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(ApiSocket), cts.Token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        await writer.WriteLineAsync(command.AsMemory(), cts.Token).ConfigureAwait(false);
        var lines = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(cts.Token).ConfigureAwait(false) is { } line)
            {
                if (line.Trim() == "done") return lines;
                if (line.Trim() == "error") throw new ProcessFailedException($"{Name}: API command `{command}` failed:\n{string.Join('\n', lines)}");
                lines.Add(line);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProcessFailedException($"{Name}: API command `{command}` got no answer within 60s; output so far:\n{string.Join('\n', lines)}");
        }
        throw new ProcessFailedException($"{Name}: API connection closed during `{command}`");
    }

    public override async Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(ApiSocket)) return false;
        var lines = await ApiAsync("show neighbor summary", cancellationToken).ConfigureAwait(false);
        return lines.Any(l => l.Contains(Collector, StringComparison.Ordinal) && l.Contains("established", StringComparison.OrdinalIgnoreCase));
    }

    protected override async Task<string> DescribeSessionAsync(CancellationToken cancellationToken) =>
        string.Join('\n', await ApiAsync("show neighbor extensive", cancellationToken).ConfigureAwait(false));

    public override async Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default)
    {
        var lines = await ApiAsync("show adj-rib out extensive", cancellationToken).ConfigureAwait(false);
        return lines.Select(ParseRouteLine).OfType<BgpRoute>().ToArray();
    }

    /// <summary>
    /// One line of <c>show adj-rib out extensive</c>: "neighbor ::1 local-ip … ipv4 unicast 10.0.0.0/24
    /// next-hop 127.0.200.236 origin igp as-path [ … ] med 5 community [ … ] large-community [ … ]
    /// extended-community [ target:64512:100000 target:192.0.2.1:5 target:4200000001L:7 ]
    /// path-information 0.0.0.1". Attributes are as ExaBGP sends them.
    /// </summary>
    internal static BgpRoute? ParseRouteLine(string line)
    {
        var m = FamilyRegex().Match(line);
        if (!m.Success) return null;
        var tokens = line[(m.Index + m.Length)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string prefix = BgpRoute.CanonicalPrefix(tokens[0]);
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (int i = 1; i < tokens.Length; i++)
        {
            string key = tokens[i];
            var list = new List<string>();
            if (i + 1 < tokens.Length && tokens[i + 1] == "[")
            {
                for (i += 2; i < tokens.Length && tokens[i] != "]"; i++) list.Add(tokens[i]);
            }
            else if (i + 1 < tokens.Length)
            {
                list.Add(tokens[++i]);
            }
            values[key] = list;
        }
        List<string> Get(string key) => values.TryGetValue(key, out var v) ? v : [];
        uint pathId = values.TryGetValue("path-information", out var pi)
            ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(System.Net.IPAddress.Parse(pi[0]).GetAddressBytes()) : 0;
        return new BgpRoute(prefix, pathId, string.Join(' ', Get("as-path")), BgpRoute.CanonicalAddress(Get("next-hop")[0]),
            Get("origin").FirstOrDefault("igp").ToUpperInvariant(),
            values.TryGetValue("med", out var med) ? uint.Parse(med[0], CultureInfo.InvariantCulture) : null,
            BgpRoute.SortCommunities(Get("community").Select(BgpRoute.ParseCommunity)),
            BgpRoute.SortLargeCommunities(Get("large-community").Select(t =>
            {
                var p = t.Split(':');
                return (uint.Parse(p[0], CultureInfo.InvariantCulture), uint.Parse(p[1], CultureInfo.InvariantCulture), uint.Parse(p[2], CultureInfo.InvariantCulture));
            })),
            BgpRoute.SortExtCommunities(Get("extended-community").Select(ParseExt)));
    }

    private static ulong ParseExt(string text)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return Convert.ToUInt64(text[2..], 16);
        var parts = text.Split(':');
        if (parts.Length != 3 || parts[0] is not ("target" or "origin")) throw new FormatException($"extended community {text}");
        // "4200000001L" marks the 4-octet AS form (RFC 5668).
        string admin = parts[1];
        string rt = admin.EndsWith('L') ? admin[..^1] + ":" + parts[2] : admin + ":" + parts[2];
        ulong value = FrrSpeaker.ParseExtCommunity((parts[0] == "target" ? "RT:" : "SoO:") + rt);
        if (admin.EndsWith('L') && (value >> 56) == 0)
        {
            // A 4-octet AS below 65536 still uses type 0x02.
            ulong asn = ulong.Parse(admin[..^1], CultureInfo.InvariantCulture);
            value = 0x0200ul << 48 | (value >> 48 & 0xFF) << 48 | asn << 16 | ulong.Parse(parts[2], CultureInfo.InvariantCulture);
        }
        return value;
    }

    [GeneratedRegex(@" (ipv4|ipv6) unicast ")]
    private static partial Regex FamilyRegex();

    /// <summary>
    /// One <c>withdraw route</c> per announced path, pipelined over the API socket. (ExaBGP 4.2's
    /// <c>clear adj-rib out</c> empties its Adj-RIB-Out without sending the withdrawals.)
    /// </summary>
    public override async Task WithdrawAllAsync(CancellationToken cancellationToken = default)
    {
        var commands = RoutesToOriginate().Select(r => $"neighbor {Collector} withdraw {RouteStatement(r).TrimEnd(';')}").ToArray();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(120));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(ApiSocket), cts.Token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var send = Task.Run(async () =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            foreach (var c in commands) await writer.WriteLineAsync(c.AsMemory(), cts.Token).ConfigureAwait(false);
            await writer.FlushAsync(cts.Token).ConfigureAwait(false);
        }, cts.Token);
        int answered = 0, errors = 0;
        while (answered < commands.Length && await reader.ReadLineAsync(cts.Token).ConfigureAwait(false) is { } line)
        {
            if (line.Trim() is "done" or "error") answered++;
            if (line.Trim() == "error") errors++;
        }
        await send.ConfigureAwait(false);
        if (answered < commands.Length || errors > 0)
            throw new ProcessFailedException($"{Name}: {answered} of {commands.Length} withdrawals answered, {errors} errors");
    }

    /// <summary>Cease / Administrative Shutdown (6/2); ExaBGP 4.2 puts its own fixed text in it, not <paramref name="text"/>.</summary>
    public override Task ShutdownAsync(string text, CancellationToken cancellationToken = default) =>
        ApiAsync($"neighbor {Collector} teardown 2", cancellationToken);

    private string BuildConfig()
    {
        var o = Options;
        var sb = new StringBuilder();
        sb.AppendLine("process api {");
        sb.AppendLine($"    run /usr/bin/python3 {Directory.File("relay.py")} {ApiSocket};");
        sb.AppendLine("    encoder text;");
        sb.AppendLine("}");
        sb.AppendLine(Invariant($"neighbor {o.CollectorAddress} {{"));
        sb.AppendLine(Invariant($"    router-id {o.EffectiveRouterId};"));
        sb.AppendLine(Invariant($"    local-address {o.LocalAddress};"));
        sb.AppendLine(Invariant($"    local-as {o.LocalAs};"));
        sb.AppendLine(Invariant($"    peer-as {o.CollectorAs};"));
        sb.AppendLine(Invariant($"    hold-time {o.HoldTime};"));
        sb.AppendLine(Invariant($"    connect {o.CollectorPort};"));
        sb.AppendLine("    group-updates true;");
        if (o.Md5Password is { } pw) sb.AppendLine($"    md5-password \"{pw}\";");
        sb.AppendLine("    capability {");
        sb.AppendLine("        route-refresh;");
        if (o.AddPathSend) sb.AppendLine("        add-path send;");
        if (o.ExtendedMessage) sb.AppendLine("        extended-message enable;");
        sb.AppendLine("    }");
        sb.AppendLine("    family { ipv4 unicast; ipv6 unicast; }");
        sb.AppendLine("    api { processes [ api ]; }");
        sb.AppendLine("    static {");
        foreach (var r in RoutesToOriginate()) sb.AppendLine("        " + RouteStatement(r));
        sb.AppendLine("    }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private string RouteStatement(GeneratedRoute r)
    {
        var a = r.Attributes;
        var o = Options;
        var sb = new StringBuilder();
        sb.Append(Invariant($"route {r.Prefix} next-hop {o.NextHop(r.IsIPv6)}"));
        if (o.AddPathSend) sb.Append(Invariant($" path-information 0.0.0.{r.PathIndex + 1}"));
        sb.Append($" origin {(a.Origin switch { 0 => "igp", 1 => "egp", _ => "incomplete" })}");
        sb.Append(" as-path [ ").Append(string.Join(' ', new[] { o.LocalAs }.Concat(a.AsPath).Select(x => x.ToString(CultureInfo.InvariantCulture)))).Append(" ]");
        if (a.Med is { } med) sb.Append(Invariant($" med {med}"));
        if (a.Communities.Count > 0) sb.Append(" community [ ").Append(string.Join(' ', a.Communities.Select(BgpRoute.FormatCommunity))).Append(" ]");
        if (a.LargeCommunities.Count > 0)
            sb.Append(" large-community [ ").Append(string.Join(' ', a.LargeCommunities.Select(l => Invariant($"{l.Global}:{l.Local1}:{l.Local2}")))).Append(" ]");
        if (a.ExtCommunities.Count > 0)
            sb.Append(" extended-community [ ").Append(string.Join(' ', a.ExtCommunities.Select(e => "0x" + e.ToString("x16", CultureInfo.InvariantCulture)))).Append(" ]");
        sb.Append(';');
        return sb.ToString();
    }
}
