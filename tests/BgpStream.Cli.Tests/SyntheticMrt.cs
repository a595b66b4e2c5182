using System.Net;
using System.Text;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Cli.Tests;

/// <summary>
/// An MRT update file written at test time with <see cref="MrtWriter"/>, as a collector archives its
/// sessions: BGP4MP_ET STATE_CHANGE_AS4 (RFC 6396 §4.4.4, states 1 Idle … 6 Established) and
/// MESSAGE_AS4 records of what each peer sent. Records are written in time order (stable).
/// </summary>
internal sealed class SyntheticMrt
{
    public const uint LocalAs = 65000;
    private const ushort Idle = 1, Connect = 2, OpenSent = 4, OpenConfirm = 5, Established = 6;

    private readonly List<(long Time, int Sequence, byte[] Bytes)> _records = [];

    /// <summary>A session of the archive: the peer, its AS, and the collector's address on it.</summary>
    public sealed record Peer(IPAddress Address, uint Asn, IPAddress Local)
    {
        public IpAddressValue PeerValue => IpAddressValue.FromIPAddress(Address);
        public IpAddressValue LocalValue => IpAddressValue.FromIPAddress(Local);
        public string Ip => Address.ToString();
    }

    /// <summary>Seconds since the Unix epoch as record time (µs).</summary>
    public static long At(DateTimeOffset time) => time.ToUnixTimeMilliseconds() * 1000;

    public void State(long t, Peer p, ushort from, ushort to)
    {
        var b = new byte[MrtWriter.MaxRecordLength];
        int n = MrtWriter.WriteStateChange(b, t, p.Asn, LocalAs, p.PeerValue, p.LocalValue, from, to);
        Add(t, b.AsSpan(0, n));
    }

    public void Message(long t, Peer p, ReadOnlySpan<byte> message)
    {
        var b = new byte[MrtWriter.MaxRecordLength];
        int n = MrtWriter.WriteMessage(b, t, p.Asn, LocalAs, p.PeerValue, p.LocalValue, message, addPath: false);
        Add(t, b.AsSpan(0, n));
    }

    /// <summary>Idle → Connect → OpenSent, the peer's OPEN (4-octet AS, IPv4 and IPv6 unicast), OpenConfirm, its KEEPALIVE, Established — all at <paramref name="t"/>.</summary>
    public void Establish(long t, Peer p, ushort holdTime = 90)
    {
        State(t, p, Idle, Connect);
        State(t, p, Connect, OpenSent);
        var open = new byte[4096];
        var w = new OpenMessageWriter(open, p.Asn, holdTime, 0x0A000000u | p.Asn);
        w.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        w.AddMultiprotocol(Afi.IPv6, Safi.Unicast);
        w.AddFourOctetAs(p.Asn);
        Message(t, p, open.AsSpan(0, w.Finish()));
        State(t, p, OpenSent, OpenConfirm);
        Keepalive(t, p);
        State(t, p, OpenConfirm, Established);
    }

    public void Keepalive(long t, Peer p)
    {
        var b = new byte[BgpConstants.HeaderLength];
        Message(t, p, b.AsSpan(0, BgpMessageWriter.WriteKeepalive(b)));
    }

    /// <summary>KEEPALIVEs from <paramref name="from"/> every <paramref name="everySeconds"/> up to and including <paramref name="to"/>.</summary>
    public void Keepalives(Peer p, long from, long to, int everySeconds = 30)
    {
        for (long t = from; t <= to; t += everySeconds * 1_000_000L) Keepalive(t, p);
    }

    /// <summary>An IPv4 UPDATE announcing <paramref name="prefixes"/> (AS path: the peer's AS, next hop 192.0.2.254).</summary>
    public void Announce(long t, Peer p, params IpPrefix[] prefixes)
    {
        var b = new byte[4096];
        var w = new UpdateMessageWriter(b, BgpDecodeContext.Modern);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([p.Asn]);
        w.AddNextHop(0xC00002FE);
        foreach (var prefix in prefixes) w.AddNlri(prefix);
        Message(t, p, b.AsSpan(0, w.Finish()));
    }

    public void Withdraw(long t, Peer p, params IpPrefix[] prefixes)
    {
        var b = new byte[4096];
        var w = new UpdateMessageWriter(b, BgpDecodeContext.Modern);
        foreach (var prefix in prefixes) w.AddWithdrawn(prefix);
        Message(t, p, b.AsSpan(0, w.Finish()));
    }

    /// <summary>The peer's NOTIFICATION Cease / Administrative Shutdown (6/2) with an RFC 9003 Shutdown Communication, then Established → Idle.</summary>
    public void Shutdown(long t, Peer p, string text)
    {
        var b = new byte[4096];
        Message(t, p, b.AsSpan(0, BgpMessageWriter.WriteShutdownNotification(b, NotificationCodes.CeaseSubcode.AdministrativeShutdown, text)));
        State(t, p, Established, Idle);
    }

    /// <summary>Established → Idle with no NOTIFICATION from the peer (our Hold Timer, or the connection lost).</summary>
    public void Drop(long t, Peer p) => State(t, p, Established, Idle);

    private void Add(long t, ReadOnlySpan<byte> bytes) => _records.Add((t, _records.Count, bytes.ToArray()));

    public void WriteTo(string path)
    {
        using var file = File.Create(path);
        foreach (var (_, _, bytes) in _records.OrderBy(r => r.Time).ThenBy(r => r.Sequence)) file.Write(bytes);
    }

    /// <summary>The detection events of <c>bgpstream replay --stdout</c> (the real CLI in its own process) over <paramref name="path"/>.</summary>
    public static async Task<List<JsonElement>> ReplayEventsAsync(string path, params string[] options)
    {
        var (exit, stdout, stderr) = await ProgramRun.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "bgpstream.dll"), "replay", "--no-progress", "--stdout", .. options, path]);
        Assert.True(exit == 0, $"replay exited {exit}: {stderr}");
        return Encoding.UTF8.GetString(stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(j => j.GetProperty("type").GetString() is "cull_start" or "cull_end" or "stuck_session" or "stuck_warning" or "zombie_route" or "zombie_cleared")
            .ToList();
    }
}
