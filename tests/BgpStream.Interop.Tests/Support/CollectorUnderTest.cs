using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Interop.Tests.Support;

/// <summary>
/// The real collector, in process, as the speakers' peer. What the tests compare is what a user
/// gets: every record goes through <see cref="ElementJsonWriter"/> (the <c>--stdout</c> schema), and
/// each peer's Adj-RIB-In is rebuilt from those JSON lines.
/// </summary>
public sealed class CollectorUnderTest : IAsyncDisposable
{
    private readonly ConcurrentDictionary<IPAddress, CollectorSession> _sessions = new();
    private readonly MemoryStream _json = new();
    private readonly ElementJsonWriter _writer;
    private readonly Task _consumer;

    public CollectorUnderTest(IPAddress address, int port, IReadOnlyList<PeerConfig> peers, TimeSpan? holdTime = null)
    {
        _writer = new ElementJsonWriter(_json);
        Collector = new Collector(new CollectorOptions
        {
            Listen = [new IPEndPoint(address, port)],
            LocalAs = 65000,
            RouterId = IPAddress.Parse("192.0.2.1"),
            Peers = peers,
            HoldTime = holdTime ?? TimeSpan.FromSeconds(90),
            TickInterval = TimeSpan.FromMilliseconds(100),
        });
        Collector.Start();
        _consumer = Task.Run(ConsumeAsync);
    }

    public Collector Collector { get; }
    public IPEndPoint LocalEndPoint => Collector.LocalEndpoints[0];
    /// <summary>Every JSON line written, in order.</summary>
    public ConcurrentQueue<string> Lines { get; } = new();

    public CollectorSession Session(IPAddress peer) => _sessions.GetOrAdd(Normalize(peer), p => new CollectorSession(p));

    public async Task<CollectorSession> WaitForEstablishedAsync(IPAddress peer, TimeSpan timeout)
    {
        var session = Session(peer);
        await session.WaitUntilAsync(s => s.IsEstablished, timeout, "Established");
        return session;
    }

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    private async Task ConsumeAsync()
    {
        await foreach (var record in Collector.Output.Reader.ReadAllAsync())
        {
            try
            {
                var session = Session(record.Session.PeerAddress);
                if (record.IsMessage) session.OnMessage(record);
                _json.SetLength(0);
                _writer.Write(record);
                foreach (var line in System.Text.Encoding.UTF8.GetString(_json.GetBuffer(), 0, (int)_json.Length).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    Lines.Enqueue(line);
                    session.OnJson(line);
                }
            }
            finally
            {
                record.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Collector.StopAsync(timeout: TimeSpan.FromSeconds(3));
        await _consumer.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

/// <summary>The collector's view of one peer address: its Adj-RIB-In as the JSON lines describe it, and its state events.</summary>
public sealed class CollectorSession
{
    private readonly ConcurrentDictionary<(string Prefix, uint PathId), BgpRoute> _ribIn = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _maxLength;

    internal CollectorSession(IPAddress peer) => Peer = peer;

    public IPAddress Peer { get; }
    public SessionState State { get; private set; } = SessionState.Idle;
    public bool IsEstablished => State == SessionState.Established;
    public uint RemoteAs { get; private set; }
    public OpenCapabilities RemoteCapabilities { get; private set; }
    public long MaxMessageLength => Interlocked.Read(ref _maxLength);
    public DateTime LastMessageAt { get; private set; } = DateTime.UtcNow;
    /// <summary>The NOTIFICATION of the last transition out of Established, with the direction.</summary>
    public ReceivedNotification? Notification { get; private set; }
    public bool NotificationSent { get; private set; }
    /// <summary>The <c>reason</c> field of the last transition out of Established.</summary>
    public string? CloseReason { get; private set; }
    /// <summary>Completes when an established session goes down.</summary>
    public Task Completion => _closed.Task;
    public List<JsonElement> StateEvents { get; } = [];

    public IReadOnlyCollection<BgpRoute> Routes => _ribIn.Values.ToArray();
    public int RouteCount(bool ipv6) => _ribIn.Keys.Count(k => k.Prefix.Contains(':', StringComparison.Ordinal) == ipv6);

    internal void OnMessage(in CollectorRecord record)
    {
        LastMessageAt = DateTime.UtcNow;
        if (record.Length > Interlocked.Read(ref _maxLength)) Interlocked.Exchange(ref _maxLength, record.Length);
        if (record.MessageType == BgpMessageType.Open
            && OpenMessage.TryParse(record.Message[BgpConstants.HeaderLength..], out var open, out _)
            && open.TryGetCapabilities(out var caps, out _))
        {
            RemoteCapabilities = caps;
        }
    }

    internal void OnJson(string line)
    {
        var e = JsonDocument.Parse(line).RootElement.Clone();
        switch (e.GetProperty("type").GetString())
        {
            case "state":
                lock (StateEvents) StateEvents.Add(e);
                var from = Enum.Parse<SessionState>(e.GetProperty("old_state").GetString()!);
                State = Enum.Parse<SessionState>(e.GetProperty("new_state").GetString()!);
                if (e.GetProperty("peer_asn").ValueKind == JsonValueKind.Number) RemoteAs = e.GetProperty("peer_asn").GetUInt32();
                if (from == SessionState.Established)
                {
                    CloseReason = e.GetProperty("reason").GetString();
                    if (e.GetProperty("notification") is { ValueKind: JsonValueKind.Object } n)
                    {
                        NotificationSent = n.GetProperty("direction").GetString() == "sent";
                        Notification = new ReceivedNotification((byte)n.GetProperty("code").GetInt32(), (byte)n.GetProperty("subcode").GetInt32(),
                            Convert.FromHexString(n.GetProperty("data").GetString()!), n.GetProperty("text").GetString());
                    }
                    _closed.TrySetResult();
                }
                break;
            case "A":
                var route = ToRoute(e);
                _ribIn[(route.Prefix, route.PathId)] = route;
                break;
            case "W":
                _ribIn.TryRemove((BgpRoute.CanonicalPrefix(e.GetProperty("prefix").GetString()!), PathId(e)), out _);
                break;
        }
    }

    private static uint PathId(JsonElement e) => e.GetProperty("path_id").ValueKind == JsonValueKind.Number ? e.GetProperty("path_id").GetUInt32() : 0;

    private static BgpRoute ToRoute(JsonElement e) => new(
        BgpRoute.CanonicalPrefix(e.GetProperty("prefix").GetString()!),
        PathId(e),
        e.GetProperty("as_path").GetString()!,
        e.GetProperty("next_hop").GetString() is { } nh ? BgpRoute.CanonicalAddress(nh) : "",
        e.GetProperty("origin").GetString() ?? "",
        e.GetProperty("med").ValueKind == JsonValueKind.Number ? e.GetProperty("med").GetUInt32() : null,
        BgpRoute.SortCommunities(e.GetProperty("communities").EnumerateArray().Select(c => BgpRoute.ParseCommunity(c.GetString()!))),
        BgpRoute.SortLargeCommunities(e.GetProperty("large_communities").EnumerateArray().Select(c =>
        {
            var p = c.GetString()!.Split(':').Select(x => uint.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            return (p[0], p[1], p[2]);
        })),
        BgpRoute.SortExtCommunities(e.GetProperty("ext_communities").EnumerateArray().Select(c => ParseExtCommunity(c.GetString()!))));

    /// <summary>The JSON text of docs/element-schema.md back to the 8 octets.</summary>
    public static ulong ParseExtCommunity(string text)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal)) return ulong.Parse(text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var parts = text.Split(':');
        ulong subtype = parts[0] switch { "rt" => 0x02, "soo" => 0x03, _ => throw new FormatException(text) };
        string admin = parts[1];
        ulong value = ulong.Parse(parts[2], CultureInfo.InvariantCulture);
        if (admin.Contains('.'))
            return 0x01UL << 56 | subtype << 48 | (ulong)SpeakerOptions.ParseRouterId(IPAddress.Parse(admin)) << 16 | value;
        if (admin.EndsWith('L'))
            return 0x02UL << 56 | subtype << 48 | ulong.Parse(admin[..^1], CultureInfo.InvariantCulture) << 16 | value;
        return subtype << 48 | ulong.Parse(admin, CultureInfo.InvariantCulture) << 32 | value;
    }

    public async Task WaitUntilAsync(Func<CollectorSession, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"collector: {what} not seen within {timeout.TotalSeconds:F0}s; {this}");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public override string ToString() =>
        $"collector session {Peer} AS{RemoteAs} {State} rib v4={RouteCount(false)} v6={RouteCount(true)} max message {MaxMessageLength} closed={CloseReason ?? "no"}";
}
