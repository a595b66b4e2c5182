using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BgpStream.Bgp;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Support;

/// <summary>
/// A passive BGP peer just good enough to validate the speaker fixtures before the collector exists:
/// it listens, answers an OPEN with its own (4-octet AS, IPv4+IPv6 unicast, ADD-PATH receive for
/// both, extended message, route refresh), keeps the session alive, and keeps an Adj-RIB-In of
/// what it receives, normalised to <see cref="BgpRoute"/> so it compares with the daemons' views.
/// </summary>
public sealed class MinimalPassivePeer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PeerSession> _sessions = [];
    private readonly Task _acceptLoop;

    public MinimalPassivePeer(IPAddress address, int port, uint asn = 65000, ushort holdTime = 90, IPAddress? bgpIdentifier = null,
        IReadOnlyDictionary<IPAddress, string>? md5Keys = null)
    {
        Asn = asn;
        HoldTime = holdTime;
        BgpIdentifier = bgpIdentifier ?? IPAddress.Parse("192.0.2.250");
        _listener = new TcpListener(address, port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        foreach (var (peer, key) in md5Keys ?? new Dictionary<IPAddress, string>()) SetMd5(_listener.Server, peer, key);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public uint Asn { get; }
    public ushort HoldTime { get; }
    public IPAddress BgpIdentifier { get; }
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public IReadOnlyList<PeerSession> Sessions
    {
        get { lock (_sessions) return _sessions.ToArray(); }
    }

    /// <summary>Waits for a session that reached Established (OPEN and KEEPALIVE exchanged).</summary>
    public async Task<PeerSession> WaitForEstablishedAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var s = Sessions.LastOrDefault(s => s.IsEstablished);
            if (s is not null) return s;
            await Task.Delay(100).ConfigureAwait(false);
        }
        throw new TimeoutException($"no Established session on {LocalEndPoint} within {timeout.TotalSeconds:F0}s; sessions: " +
            string.Join("; ", Sessions.Select(s => s.ToString())));
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var session = new PeerSession(this, client, _stop.Token);
            lock (_sessions) _sessions.Add(session);
        }
    }

    private static readonly (Afi, Safi, AddPathDirection)[] AddPathReceive =
        [(Afi.IPv4, Safi.Unicast, AddPathDirection.Receive), (Afi.IPv6, Safi.Unicast, AddPathDirection.Receive)];

    internal int WriteOpen(Span<byte> buffer)
    {
        var w = new OpenMessageWriter(buffer, Asn, HoldTime, BinaryPrimitives.ReadUInt32BigEndian(BgpIdentifier.GetAddressBytes()));
        w.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        w.AddMultiprotocol(Afi.IPv6, Safi.Unicast);
        w.AddFourOctetAs(Asn);
        w.AddAddPath(AddPathReceive);
        w.AddCapability(CapabilityCode.ExtendedMessage, []);
        w.AddCapability(CapabilityCode.RouteRefresh, []);
        return w.Finish();
    }

    /// <summary>
    /// RFC 2385 TCP MD5 on the listening socket (Linux TCP_MD5SIG, struct tcp_md5sig): accepted
    /// connections from <paramref name="peer"/> inherit the key.
    /// </summary>
    public static void SetMd5(Socket socket, IPAddress peer, string key)
    {
        const int TcpMd5Sig = 14;
        var keyBytes = Encoding.ASCII.GetBytes(key);
        var opt = new byte[216];
        if (peer.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(opt, 2);
            peer.GetAddressBytes().CopyTo(opt, 4);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(opt, 10);
            peer.GetAddressBytes().CopyTo(opt, 8);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(opt.AsSpan(130), (ushort)keyBytes.Length);
        keyBytes.CopyTo(opt, 136);
        socket.SetRawSocketOption(6 /* IPPROTO_TCP */, TcpMd5Sig, opt);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var s in Sessions) await s.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>A NOTIFICATION the peer received, with the RFC 9003 Shutdown Communication if any.</summary>
public sealed record ReceivedNotification(byte Code, byte Subcode, byte[] Data, string? ShutdownCommunication)
{
    public override string ToString() => $"NOTIFICATION {Code}/{Subcode} \"{ShutdownCommunication}\" data {Convert.ToHexString(Data)}";
}

/// <summary>One accepted connection and everything received on it.</summary>
public sealed class PeerSession : IAsyncDisposable
{
    private readonly MinimalPassivePeer _peer;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _cts;
    private readonly Task _run;
    private readonly ConcurrentDictionary<(string Prefix, uint PathId), BgpRoute> _ribIn = new();
    private long _updates, _updateBytes, _announced4, _announced6, _withdrawn4, _withdrawn6, _maxLength;
    private volatile bool _established;

    internal PeerSession(MinimalPassivePeer peer, TcpClient client, CancellationToken stop)
    {
        _peer = peer;
        _client = client;
        _stream = client.GetStream();
        RemoteEndPoint = (IPEndPoint)client.Client.RemoteEndPoint!;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _run = RunAsync();
    }

    public IPEndPoint RemoteEndPoint { get; }
    public bool IsEstablished => _established;
    public uint RemoteAs { get; private set; }
    public ushort RemoteHoldTime { get; private set; }
    public OpenCapabilities RemoteCapabilities { get; private set; }
    public BgpDecodeContext Context { get; private set; }
    public long UpdateMessages => Interlocked.Read(ref _updates);
    public long UpdateBytes => Interlocked.Read(ref _updateBytes);
    public long MaxMessageLength => Interlocked.Read(ref _maxLength);
    public long AnnouncedIpv4 => Interlocked.Read(ref _announced4);
    public long AnnouncedIpv6 => Interlocked.Read(ref _announced6);
    public long WithdrawnIpv4 => Interlocked.Read(ref _withdrawn4);
    public long WithdrawnIpv6 => Interlocked.Read(ref _withdrawn6);
    public bool EndOfRibIpv4 { get; private set; }
    public bool EndOfRibIpv6 { get; private set; }
    public ReceivedNotification? Notification { get; private set; }
    /// <summary>When the last message of any type arrived (UTC), to see a frozen speaker go silent.</summary>
    public DateTime LastMessageAt { get; private set; } = DateTime.UtcNow;
    /// <summary>Why the session ended (a NOTIFICATION, EOF, a decode error), or null while it runs.</summary>
    public string? CloseReason { get; private set; }
    public Task Completion => _run;

    /// <summary>Current Adj-RIB-In: one entry per (prefix, path id).</summary>
    public IReadOnlyCollection<BgpRoute> Routes => _ribIn.Values.ToArray();
    public int RouteCount(bool ipv6) => _ribIn.Keys.Count(k => k.Prefix.Contains(':', StringComparison.Ordinal) == ipv6);

    public async Task WaitUntilAsync(Func<PeerSession, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"peer: {what} not seen within {timeout.TotalSeconds:F0}s; {this}");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public override string ToString() =>
        $"session from {RemoteEndPoint} AS{RemoteAs} established={IsEstablished} updates={UpdateMessages} ({UpdateBytes} B, max {MaxMessageLength}) " +
        $"rib v4={RouteCount(false)} v6={RouteCount(true)} announced v4={AnnouncedIpv4} v6={AnnouncedIpv6} withdrawn v4={WithdrawnIpv4} v6={WithdrawnIpv6} " +
        $"eor v4={EndOfRibIpv4} v6={EndOfRibIpv6} closed={CloseReason ?? "no"}";

    private async Task RunAsync()
    {
        var token = _cts.Token;
        Task? keepalives = null;
        try
        {
            var buffer = new byte[BgpConstants.MaxExtendedMessageLength];
            int n = _peer.WriteOpen(buffer);
            await SendAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
            var header = new byte[BgpConstants.HeaderLength];
            while (!token.IsCancellationRequested)
            {
                if (!await ReadExactlyAsync(header, token).ConfigureAwait(false)) { CloseReason ??= "EOF"; return; }
                int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16));
                var type = (BgpMessageType)header[18];
                LastMessageAt = DateTime.UtcNow;
                int max = Context.ExtendedMessage ? BgpConstants.MaxExtendedMessageLength : BgpConstants.MaxMessageLength;
                if (length < BgpConstants.HeaderLength || length > max) { CloseReason = $"bad message length {length} (max {max})"; return; }
                var body = new byte[length - BgpConstants.HeaderLength];
                if (!await ReadExactlyAsync(body, token).ConfigureAwait(false)) { CloseReason = "EOF inside a message"; return; }
                switch (type)
                {
                    case BgpMessageType.Open:
                        OnOpen(body);
                        n = BgpMessageWriter.WriteKeepalive(buffer);
                        await SendAsync(buffer.AsMemory(0, n), token).ConfigureAwait(false);
                        ushort hold = Math.Min(_peer.HoldTime, RemoteHoldTime);
                        if (hold > 0) keepalives = KeepaliveLoopAsync(TimeSpan.FromSeconds(hold / 3.0), token);
                        break;
                    case BgpMessageType.Keepalive:
                        _established = RemoteAs != 0;
                        break;
                    case BgpMessageType.Update:
                        Interlocked.Increment(ref _updates);
                        Interlocked.Add(ref _updateBytes, length);
                        if (length > Interlocked.Read(ref _maxLength)) Interlocked.Exchange(ref _maxLength, length);
                        OnUpdate(body);
                        break;
                    case BgpMessageType.Notification:
                        NotificationMessage.TryParse(body, out var notification, out _);
                        Notification = new ReceivedNotification(notification.Code, notification.Subcode, notification.Data.ToArray(),
                            notification.ShutdownCommunication);
                        CloseReason = Notification.ToString();
                        return;
                    case BgpMessageType.RouteRefresh:
                        break;
                    default:
                        CloseReason = $"unexpected message type {header[18]}";
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            CloseReason ??= ex.GetType().Name + ": " + ex.Message;
        }
        finally
        {
            _established = false;
            await _cts.CancelAsync().ConfigureAwait(false);
            _client.Close();
            if (keepalives is not null) await keepalives.ConfigureAwait(false);
        }
    }

    private async Task KeepaliveLoopAsync(TimeSpan interval, CancellationToken token)
    {
        var ka = new byte[BgpConstants.HeaderLength];
        BgpMessageWriter.WriteKeepalive(ka);
        try
        {
            while (!token.IsCancellationRequested && _client.Connected)
            {
                await Task.Delay(interval, token).ConfigureAwait(false);
                await SendAsync(ka, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken token)
    {
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try { await _stream.WriteAsync(data, token).ConfigureAwait(false); }
        finally { _writeLock.Release(); }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken token)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, token).ConfigureAwait(false);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    private void OnOpen(byte[] body)
    {
        if (!OpenMessage.TryParse(body, out var open, out var error) || !open.TryGetCapabilities(out var remote, out error))
            throw new InvalidDataException($"bad OPEN: {error}");
        RemoteCapabilities = remote;
        RemoteAs = remote.FourOctetAs ?? open.MyAutonomousSystem;
        RemoteHoldTime = open.HoldTime;
        var ours = new byte[4096];
        int n = _peer.WriteOpen(ours);
        OpenMessage.TryParse(ours.AsSpan(BgpConstants.HeaderLength, n - BgpConstants.HeaderLength), out var local, out _);
        local.TryGetCapabilities(out var localCaps, out _);
        Context = OpenCapabilities.Negotiate(localCaps, remote);
    }

    private void OnUpdate(byte[] body)
    {
        var ctx = Context;
        if (!UpdateMessage.TryParse(body, ctx, out var update, out var error)) throw new InvalidDataException($"bad UPDATE: {error}");
        var attrs = update.ParseAttributes();
        if (update.IsEndOfRib) { EndOfRibIpv4 = true; return; }

        var withdrawn = update.ReadWithdrawn();
        while (withdrawn.TryRead(out var nlri, out _)) Withdraw(nlri, ipv6: false);
        if (attrs.TryGetMpUnreach(out var unreach))
        {
            if (unreach.Withdrawn.IsEmpty && attrs.Count == 1)
            {
                if (unreach.Afi == Afi.IPv6) EndOfRibIpv6 = true;
                else if (unreach.Afi == Afi.IPv4) EndOfRibIpv4 = true;
            }
            var r = UpdateMessage.ReadMpUnreach(attrs, unreach, ctx);
            while (r.TryRead(out var nlri, out _)) Withdraw(nlri, unreach.Afi == Afi.IPv6);
        }

        if (update.Nlri.IsEmpty && attrs.MpReach.IsEmpty) return;
        string origin = attrs.TryGetOrigin(out var o) ? BgpRoute.OriginName((int)o) : "?";
        uint? med = attrs.TryGetMultiExitDisc(out var m) ? m : null;
        string asPath = FormatAsPath(attrs.AsPath, ctx.AsSize);
        var communities = new List<uint>();
        for (int i = 0; i < AttributeValues.CommunityCount(attrs.Communities); i++) communities.Add(AttributeValues.Community(attrs.Communities, i));
        var large = new List<(uint, uint, uint)>();
        for (int i = 0; i < AttributeValues.LargeCommunityCount(attrs.LargeCommunities); i++) large.Add(AttributeValues.LargeCommunity(attrs.LargeCommunities, i));
        var ext = new List<ulong>();
        for (int i = 0; i < AttributeValues.ExtendedCommunityCount(attrs.ExtendedCommunities); i++) ext.Add(AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, i));
        var template = new BgpRoute("", 0, asPath, "", origin, med, BgpRoute.SortCommunities(communities),
            BgpRoute.SortLargeCommunities(large), BgpRoute.SortExtCommunities(ext));

        if (!update.Nlri.IsEmpty)
        {
            string nh = attrs.TryGetNextHop(out var nextHop) ? nextHop.ToString() : "?";
            var reader = update.ReadNlri();
            while (reader.TryRead(out var nlri, out _)) Announce(nlri, false, template with { NextHop = nh });
        }
        if (attrs.TryGetMpReach(out var reach))
        {
            string nh = MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out _) ? BgpRoute.CanonicalAddress(global.ToString()) : "?";
            var reader = UpdateMessage.ReadMpReach(attrs, reach, ctx);
            while (reader.TryRead(out var nlri, out _)) Announce(nlri, reach.Afi == Afi.IPv6, template with { NextHop = nh });
        }
    }

    private void Announce(in Nlri nlri, bool ipv6, BgpRoute template)
    {
        string prefix = BgpRoute.CanonicalPrefix(nlri.Prefix.ToString());
        _ribIn[(prefix, nlri.PathId)] = template with { Prefix = prefix, PathId = nlri.PathId };
        Interlocked.Increment(ref ipv6 ? ref _announced6 : ref _announced4);
    }

    private void Withdraw(in Nlri nlri, bool ipv6)
    {
        string prefix = BgpRoute.CanonicalPrefix(nlri.Prefix.ToString());
        _ribIn.TryRemove((prefix, nlri.PathId), out _);
        Interlocked.Increment(ref ipv6 ? ref _withdrawn6 : ref _withdrawn4);
    }

    /// <summary>bgpdump style: sequences space separated, AS_SET as {a,b}.</summary>
    public static string FormatAsPath(ReadOnlySpan<byte> asPath, int asSize)
    {
        var sb = new StringBuilder();
        var reader = new AsPathReader(asPath, asSize);
        while (reader.TryRead(out var segment))
        {
            if (sb.Length > 0) sb.Append(' ');
            bool set = segment.Type is AsPathSegmentType.AsSet or AsPathSegmentType.AsConfedSet;
            if (set) sb.Append('{');
            for (int i = 0; i < segment.Count; i++)
            {
                if (i > 0) sb.Append(set ? ',' : ' ');
                sb.Append(segment[i].ToString(CultureInfo.InvariantCulture));
            }
            if (set) sb.Append('}');
        }
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        _client.Close();
        try { await _run.ConfigureAwait(false); } catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException) { }
        _cts.Dispose();
        _writeLock.Dispose();
    }
}
