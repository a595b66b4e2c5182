using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BgpStream.Bgp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgpStream.Session;

/// <summary>What <see cref="Collector.ReloadPeers"/> did: entries now, and what happened to the sessions that were up.</summary>
public sealed record PeerReloadResult(int Peers, int SessionsKept, int SessionsDeconfigured, int SessionsChanged);

/// <summary>A configured neighbor without a TCP connection and the state the collector holds it in (<see cref="Collector.PeersWithoutConnection"/>).</summary>
public sealed record ConfiguredPeerState(PeerConfig Config, SessionState State)
{
    public IPAddress Address => Config.Range.BaseAddress;
}

/// <summary>The collector's settings: who we are, where we listen, whom we accept.</summary>
public sealed record CollectorOptions
{
    public required IReadOnlyList<IPEndPoint> Listen { get; init; }
    public required uint LocalAs { get; init; }
    public required IPAddress RouterId { get; init; }
    public required IReadOnlyList<PeerConfig> Peers { get; init; }
    public TimeSpan HoldTime { get; init; } = TimeSpan.FromSeconds(90);
    /// <summary>RFC 9687; null: max(8 min, 2 × Hold Time).</summary>
    public TimeSpan? SendHoldTime { get; init; }
    /// <summary>Bound on OpenSent, and on OpenConfirm with Hold Time 0 (RFC 4271 §8.2.2 "large value").</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromMinutes(4);
    public int MaxSessions { get; init; } = 20_000;
    /// <summary>Concurrent connections from one address: 2 lets §6.8 collisions resolve.</summary>
    public int MaxSessionsPerSource { get; init; } = 2;
    /// <summary>Capacity of the bounded hand-off channel to the pipeline.</summary>
    public int OutputCapacity { get; init; } = 65536;
    /// <summary>Active peers: the wait between connection attempts (RFC 4271 ConnectRetryTime, §10 suggests 120 s).</summary>
    public TimeSpan ConnectRetryTime { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often timers and send progress are checked.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>
    /// Write <see cref="CollectorRecord.ForSendQueue"/> samples of Established sessions to <see cref="Output"/>:
    /// while bytes are queued, at most one per <see cref="SendQueueSampleInterval"/>, and one when the queue
    /// is empty again. Off by default: consumers that do not know the kind would take it for a state change.
    /// </summary>
    public bool SampleSendQueues { get; init; }
    public TimeSpan SendQueueSampleInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The passive collector: listens, admits configured peers, runs one <see cref="BgpConnection"/>
/// per TCP connection, resolves collisions (RFC 4271 §6.8), and hands messages and state changes to
/// <see cref="Output"/>. It never advertises a route.
/// </summary>
public sealed class Collector : IAsyncDisposable
{
    private readonly CollectorOptions _options;
    private readonly ILogger _log;
    /// <summary>Replaced whole by <see cref="ReloadPeers"/>; readers take one snapshot.</summary>
    private volatile PeerTable _peers;
    /// <summary>The dial loop of each active peer, by its entry; cancelled when a reload removes or changes the entry.</summary>
    private readonly ConcurrentDictionary<PeerConfig, CancellationTokenSource> _dialers = new(ReferenceEqualityComparer.Instance);
    private readonly List<Socket> _listeners = [];
    private readonly ConcurrentDictionary<long, BgpConnection> _connections = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perSource = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly ConcurrentDictionary<PeerConfig, (byte[] Open, OpenCapabilities Capabilities)> _opens = new();
    private long _refused;
    /// <summary>Addresses of active peers whose connection attempt is in flight (RFC 4271 Connect state); by address, as a reload may replace the entry.</summary>
    private readonly ConcurrentDictionary<IPAddress, byte> _dialing = new();
    private volatile bool _started;

    public Collector(CollectorOptions options, TimeProvider? clock = null, ILogger? log = null, CollectorOutput? output = null)
    {
        _options = options;
        Clock = clock ?? TimeProvider.System;
        _log = log ?? NullLogger.Instance;
        _peers = new PeerTable(options.Peers);
        Output = output ?? new CollectorOutput(options.OutputCapacity);
        if (options.HoldTime != TimeSpan.Zero && options.HoldTime < TimeSpan.FromSeconds(3))
            throw new ArgumentException("hold time must be 0 or at least 3 seconds (RFC 4271 §4.2)");
    }

    public TimeProvider Clock { get; }
    public CollectorOutput Output { get; }
    internal CollectorOptions Options => _options;
    /// <summary>The endpoints actually bound (port 0 in the options gets a real port here).</summary>
    public IReadOnlyList<IPEndPoint> LocalEndpoints => _listeners.Select(l => (IPEndPoint)l.LocalEndPoint!).ToArray();
    public IReadOnlyCollection<SessionInfo> Sessions => _connections.Values.Select(c => c.Info).ToArray();
    /// <summary>Connections refused before any OPEN: unknown source or over a limit.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Configured neighbors (single-address entries; a range names no peer until one connects) with
    /// no TCP connection now, so that a peer that is down is seen, not missing: Active for a
    /// passive one (RFC 4271 §8.2.2: "trying to acquire a peer by listening for, and accepting, a
    /// TCP connection"), Connect while we dial an <see cref="PeerConfig.Active"/> one, Idle before
    /// <see cref="Start"/> and after <see cref="StopAsync"/>.
    /// </summary>
    public IReadOnlyList<ConfiguredPeerState> PeersWithoutConnection
    {
        get
        {
            var connected = _connections.Values.Select(c => c.Info.PeerAddress).ToHashSet();
            bool idle = !_started || _stopping.IsCancellationRequested;
            return _peers.Peers.Where(p => p.IsSingleAddress && !connected.Contains(p.Range.BaseAddress))
                .DistinctBy(p => p.Range.BaseAddress)
                .Select(p => new ConfiguredPeerState(p, idle ? SessionState.Idle : _dialing.ContainsKey(p.Range.BaseAddress) ? SessionState.Connect : SessionState.Active))
                .ToArray();
        }
    }

    public void Start()
    {
        foreach (var endpoint in _options.Listen)
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // SO_REUSEADDR alone (restart while old connections sit in TIME_WAIT). .NET's ReuseAddress
                // also sets SO_REUSEPORT on Linux, which would let a second collector share the port silently.
                if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
                // [::] takes IPv4 too (IPv4-mapped) only when no IPv4 listener has its port: Linux refuses a
                // dual-stack [::]:179 beside 0.0.0.0:179 (EADDRINUSE), the default pair of listeners.
                if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
                    socket.DualMode = endpoint.Address.Equals(IPAddress.IPv6Any)
                        && !_options.Listen.Any(e => e.AddressFamily == AddressFamily.InterNetwork && e.Port == endpoint.Port);
                socket.Bind(endpoint);
                foreach (var peer in _peers.Peers.Where(p => p.Md5Password is not null && Reachable(socket, p)))
                    TcpMd5.SetKey(socket, peer.Range, peer.Md5Password!);
                socket.Listen(1024);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new InvalidOperationException($"cannot listen on {endpoint}: {e.Message}"
                    + (e.SocketErrorCode == SocketError.AccessDenied ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""), e);
            }
            _listeners.Add(socket);
            _log.LogInformation("listening on {Endpoint}", socket.LocalEndPoint);
        }
        lock (_loops)
            foreach (var listener in _listeners) _loops.Add(Task.Run(() => AcceptLoopAsync(listener)));
        CheckActive(_peers);
        foreach (var peer in _peers.Peers.Where(p => p.Active)) StartDialer(peer);
        lock (_loops) _loops.Add(Task.Run(TickLoopAsync));
        _started = true;
    }

    private static void CheckActive(PeerTable table)
    {
        foreach (var peer in table.Peers.Where(p => p.Active && !p.IsSingleAddress))
            throw new ArgumentException($"peer {peer.Range}: only a single address can be active");
    }

    private void StartDialer(PeerConfig peer)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _dialers[peer] = cts;
        var token = cts.Token;
        lock (_loops)
        {
            // Dial loops an earlier reload ended: a collector reloaded daily for months must not keep them all.
            _loops.RemoveAll(t => t.IsCompleted);
            _loops.Add(Task.Run(() => DialLoopAsync(peer, token)));
        }
    }

    /// <summary>
    /// A new peer list (SIGHUP or an edited configuration file): sessions whose entry is unchanged
    /// (<see cref="PeerConfig.SameSessionSettings"/>) stay up; a session whose peer is gone ends with
    /// Cease / Peer De-configured, one whose settings changed with Cease / Other Configuration Change
    /// (RFC 4486 §4) and may come back under the new settings. TCP-MD5 keys and active peers' dial
    /// loops follow the list. Invalid lists (an active range) change nothing.
    /// </summary>
    public PeerReloadResult ReloadPeers(IReadOnlyList<PeerConfig> peers)
    {
        var table = new PeerTable(peers);
        CheckActive(table);
        var old = _peers;
        bool Kept(PeerConfig p, PeerTable other) => other.Peers.Any(o => o.SameSessionSettings(p));
        // Keys first, so that a new peer's first SYN already finds its key on the listener.
        foreach (var listener in _listeners)
        {
            foreach (var p in old.Peers.Where(p => p.Md5Password is not null && Reachable(listener, p) && !table.Peers.Any(n => n.Range.Equals(p.Range) && n.Md5Password is not null)))
                TryMd5(() => TcpMd5.DeleteKey(listener, p.Range), p);
            foreach (var p in table.Peers.Where(p => p.Md5Password is not null && Reachable(listener, p) && !Kept(p, old)))
                TryMd5(() => TcpMd5.SetKey(listener, p.Range, p.Md5Password!), p);
        }
        _peers = table;
        _opens.Clear();
        int kept = 0, deconfigured = 0, changed = 0;
        foreach (var connection in _connections.Values)
        {
            var now = table.Find(connection.Info.PeerAddress);
            if (now is null)
            {
                connection.Stop(null, NotificationCodes.CeaseSubcode.PeerDeconfigured);
                deconfigured++;
            }
            else if (!now.SameSessionSettings(connection.Info.Config))
            {
                connection.Stop(null, NotificationCodes.CeaseSubcode.OtherConfigurationChange);
                changed++;
            }
            else kept++;
        }
        foreach (var (peer, cts) in _dialers)
        {
            if (Kept(peer, table)) continue;
            cts.Cancel();
            _dialers.TryRemove(peer, out _);
        }
        foreach (var peer in table.Peers.Where(p => p.Active && !Kept(p, old))) StartDialer(peer);
        var result = new PeerReloadResult(table.Peers.Count, kept, deconfigured, changed);
        _log.LogInformation("peers reloaded: {Peers} entries; sessions kept {Kept}, de-configured {Deconfigured}, reset for changed settings {Changed}",
            result.Peers, result.SessionsKept, result.SessionsDeconfigured, result.SessionsChanged);
        return result;
    }

    private void TryMd5(Action set, PeerConfig peer)
    {
        try
        {
            set();
        }
        catch (SocketException e)
        {
            _log.LogError("{Range}: TCP-MD5 key could not be changed on the listener: {Error}", peer.Range, e.SocketErrorCode);
        }
    }

    private static bool Reachable(Socket socket, PeerConfig peer) =>
        peer.Range.BaseAddress.AddressFamily == socket.AddressFamily || socket.DualMode;

    /// <summary>
    /// Stops every session with Cease / Administrative Shutdown and the text (RFC 9003), waits for
    /// them to close, and completes <see cref="Output"/>.
    /// </summary>
    public async Task StopAsync(string? shutdownText = "collector shutting down", TimeSpan? timeout = null)
    {
        if (_stopping.IsCancellationRequested) return;
        foreach (var listener in _listeners) listener.Dispose();
        foreach (var connection in _connections.Values) connection.Stop(shutdownText);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (!_connections.IsEmpty && DateTime.UtcNow < deadline) await Task.Delay(20).ConfigureAwait(false);
        _stopping.Cancel();
        try
        {
            Task[] loops;
            lock (_loops) loops = [.. _loops];
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await Output.CompleteAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested || e is ObjectDisposedException) return;
                continue;
            }
            Admit(socket);
        }
    }

    /// <summary>
    /// An active peer: connect whenever no connection to it is up, then wait ConnectRetryTime
    /// between attempts (RFC 4271 §8.2.2 Connect/Active). The peer may still connect to us too;
    /// §6.8 sorts out the collision.
    /// </summary>
    private async Task DialLoopAsync(PeerConfig peer, CancellationToken stop)
    {
        var remote = new IPEndPoint(peer.Range.BaseAddress, peer.Port ?? 179);
        while (!stop.IsCancellationRequested)
        {
            if (!_connections.Values.Any(c => c.Info.PeerAddress.Equals(remote.Address)))
            {
                var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                _dialing[remote.Address] = 0;
                try
                {
                    if (peer.Md5Password is not null) TcpMd5.SetKey(socket, peer.Range, peer.Md5Password);
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    attempt.CancelAfter(_options.ConnectRetryTime);
                    await socket.ConnectAsync(remote, attempt.Token).ConfigureAwait(false);
                    socket.NoDelay = true;
                    _perSource.AddOrUpdate(remote.Address, 1, (_, n) => n + 1);
                    var info = new SessionInfo(remote, (IPEndPoint)socket.LocalEndPoint!, peer);
                    var connection = new BgpConnection(this, socket, info, SettingsFor(peer), _log, locallyInitiated: true);
                    _connections[info.Id] = connection;
                    _ = Task.Run(() => connection.RunAsync(_stopping.Token));
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    socket.Dispose();
                    if (stop.IsCancellationRequested) return;
                    _log.LogInformation("{Peer}: connection attempt failed: {Error}", remote, e is SocketException se ? se.SocketErrorCode.ToString() : "timed out");
                }
                finally
                {
                    _dialing.TryRemove(remote.Address, out _);
                }
            }
            try
            {
                await Task.Delay(_options.ConnectRetryTime, Clock, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Admit(Socket socket)
    {
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        var source = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        var peer = _peers.Find(source);
        string? refusal = peer is null ? "not a configured peer"
            : _connections.Count >= _options.MaxSessions ? $"session limit {_options.MaxSessions} reached"
            : _perSource.GetValueOrDefault(source) >= _options.MaxSessionsPerSource ? $"per-source limit {_options.MaxSessionsPerSource} reached"
            : null;
        if (refusal is not null)
        {
            // Refused before any OPEN is sent: a reset, no BGP at all.
            Interlocked.Increment(ref _refused);
            _log.LogWarning("refused connection from {Remote}: {Reason}", remote, refusal);
            socket.LingerState = new LingerOption(true, 0);
            socket.Dispose();
            return;
        }
        socket.NoDelay = true;
        _perSource.AddOrUpdate(source, 1, (_, n) => n + 1);
        var info = new SessionInfo(remote, (IPEndPoint)socket.LocalEndPoint!, peer!);
        var connection = new BgpConnection(this, socket, info, SettingsFor(peer!), _log);
        _connections[info.Id] = connection;
        _ = Task.Run(() => connection.RunAsync(_stopping.Token));
    }

    private FsmSettings SettingsFor(PeerConfig peer) => new()
    {
        LocalAs = _options.LocalAs,
        BgpIdentifier = RouterIdValue,
        HoldTime = peer.HoldTime ?? _options.HoldTime,
        SendHoldTime = _options.SendHoldTime,
        LargeHoldTime = _options.OpenTimeout,
        DelayOpenTime = peer.DelayOpen,
        AcceptedPeerAs = peer.RemoteAs.ToArray(),
        LocalCapabilities = OpenFor(peer).Capabilities,
    };

    private uint RouterIdValue => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(_options.RouterId.GetAddressBytes());

    internal byte[] OpenMessageFor(SessionInfo info) => OpenFor(info.Config).Open;

    /// <summary>
    /// The OPEN a collector sends, built once per peer configuration: 4-octet AS, MP for IPv4/IPv6
    /// unicast and multicast, ADD-PATH receive for unicast, route refresh, enhanced route refresh,
    /// extended message, graceful restart (receiver only). Its capabilities come from parsing it back,
    /// so what we negotiate with is exactly what we sent.
    /// </summary>
    private (byte[] Open, OpenCapabilities Capabilities) OpenFor(PeerConfig peer) => _opens.GetOrAdd(peer, p =>
    {
        var buffer = new byte[BgpConstants.MaxMessageLength];
        var hold = p.HoldTime ?? _options.HoldTime;
        var writer = new OpenMessageWriter(buffer, _options.LocalAs, (ushort)hold.TotalSeconds, RouterIdValue);
        var families = p.Families ?? PeerConfig.DefaultFamilies;
        foreach (var (afi, safi) in families) writer.AddMultiprotocol(afi, safi);
        writer.AddCapability(CapabilityCode.RouteRefresh, []);
        writer.AddCapability(CapabilityCode.EnhancedRouteRefresh, []);
        writer.AddCapability(CapabilityCode.ExtendedMessage, []);
        writer.AddGracefulRestart(restartTime: 0);
        writer.AddFourOctetAs(_options.LocalAs);
        // ADD-PATH receive for unicast only: OpenBGPD 7.7 drops the whole capability when it meets a
        // family it does not know (multicast), then sends without path identifiers.
        var addPath = families.Where(f => f.Safi == Safi.Unicast).Select(f => (f.Afi, f.Safi, AddPathDirection.Receive)).ToArray();
        if (addPath.Length > 0) writer.AddAddPath(addPath);
        int n = writer.Finish();
        var open = buffer[..n];
        OpenMessage.TryParse(open.AsSpan(BgpConstants.HeaderLength), out var parsed, out _);
        parsed.TryGetCapabilities(out var capabilities, out _);
        return (open, capabilities);
    });

    private async Task TickLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.TickInterval, Clock, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            foreach (var connection in _connections.Values)
            {
                try
                {
                    connection.Tick();
                }
                catch (Exception e)
                {
                    _log.LogError(e, "{Peer}: timer processing failed", connection.Info);
                }
            }
        }
    }

    /// <summary>
    /// RFC 4271 §6.8, when an OPEN is accepted on <paramref name="connection"/>: at most one
    /// connection per peer survives. Against an Established one the new connection loses. Between
    /// two in OpenConfirm: "If the value of the local BGP Identifier is less than the remote one,
    /// the local system closes the BGP connection that already exists ... and accepts the BGP
    /// connection initiated by the remote system", and the other way round. When the peer
    /// initiated both (a passive collector), the newer one stays: the peer has abandoned the older.
    /// </summary>
    internal void ResolveCollision(BgpConnection connection)
    {
        foreach (var other in _connections.Values)
        {
            if (other == connection || !other.Info.PeerAddress.Equals(connection.Info.PeerAddress)) continue;
            if (other.State == SessionState.Established)
            {
                _log.LogInformation("{Peer}: connection collision with an established session; closing the new one", connection.Info);
                connection.CollisionDump();
                return;
            }
            if (other.State != SessionState.OpenConfirm) continue;
            var loser = other;
            if (other.LocallyInitiated != connection.LocallyInitiated)
            {
                bool keepRemote = RouterIdValue < connection.Info.PeerBgpIdentifier;
                loser = connection.LocallyInitiated == keepRemote ? connection : other;
            }
            _log.LogInformation("{Peer}: connection collision; closing the {Which} connection", connection.Info,
                loser.LocallyInitiated ? "locally initiated" : loser == other ? "older" : "remotely initiated");
            if (loser == connection)
            {
                connection.CollisionDump();
                return;
            }
            // Not under this connection's lock: the other one may be resolving against us right now.
            ThreadPool.QueueUserWorkItem(static c => c.CollisionDump(), loser, preferLocal: false);
        }
    }

    internal void OnTransition(BgpConnection connection, in StateTransition transition)
    {
        var level = transition.Reason.Kind is ReasonKind.HoldTimerExpired or ReasonKind.SendHoldTimerExpired or ReasonKind.ProtocolError
            ? LogLevel.Warning : LogLevel.Information;
        _log.Log(level, "{Peer}: {From} -> {To} ({Reason})", connection.Info, transition.From, transition.To, transition.Reason);
        Output.Write(CollectorRecord.ForTransition(connection.Info, transition));
    }

    internal void OnClosed(BgpConnection connection)
    {
        _connections.TryRemove(connection.Info.Id, out _);
        _perSource.AddOrUpdate(connection.Info.PeerAddress, 0, (_, n) => Math.Max(0, n - 1));
    }
}
