using BgpStream.Pipeline;
using BgpStream.Session;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BgpStream.Observability;

/// <summary>The routes: <c>/metrics</c>, <c>/healthz</c>, <c>/api/sessions</c>, <c>/api/events</c>, <c>/api/rates</c> and the status page <c>/</c>.</summary>
public static class StatusEndpoints
{
    private static readonly Lazy<byte[]> StatusPage = new(() =>
    {
        using var stream = typeof(StatusEndpoints).Assembly.GetManifestResourceStream("BgpStream.Observability.status.html")
            ?? throw new InvalidOperationException("the status page resource is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static IEndpointRouteBuilder MapStatusEndpoints(this IEndpointRouteBuilder app, MetricsRegistry registry)
    {
        app.MapGet("/metrics", () => Results.Text(registry.Render(), PrometheusText.ContentType));
        app.MapGet("/healthz", () => registry.Unhealthy() is { } reason
            ? Results.Text(reason + "\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ok\n", "text/plain; charset=utf-8"));
        app.MapGet("/api/sessions", () => Results.Json(Sessions(registry)));
        app.MapGet("/api/events", () => Results.Json(registry.Sink.RecentEvents().Select(Event)));
        app.MapGet("/api/rates", () => Results.Json(new
        {
            interval_seconds = RateSampler.Interval.TotalSeconds,
            points = registry.Rates.Points().Select(p => new { time = p.Time.ToUnixTimeMilliseconds() / 1000.0, per_second = p.PerSecond }),
        }));
        app.MapGet("/", () => Results.Bytes(StatusPage.Value, "text/html; charset=utf-8"));
        return app;
    }

    /// <summary>
    /// Every session, with what a person looks at first, and every configured neighbor without a
    /// connection (<c>id</c> null; <see cref="Collector.PeersWithoutConnection"/>), so a peer that is
    /// down shows as such. Deliberately field by field: the peer configuration (its MD5 password) is
    /// never serialised.
    /// </summary>
    internal static IEnumerable<object> Sessions(MetricsRegistry registry)
    {
        var down = registry.Collector.PeersWithoutConnection.Select(p => (Peer: p.Address.ToString(), Id: 0L, Row: (object)new
        {
            id = (long?)null,
            peer = p.Address.ToString(),
            peer_port = (int?)null,
            // The AS the entry expects, when it names exactly one.
            peer_as = p.Config.RemoteAs.Count == 1 ? p.Config.RemoteAs[0] : (uint?)null,
            bgp_id = (string?)null,
            description = p.Config.Description,
            state = MetricsRegistry.StateName(p.State),
            established_since = (DateTimeOffset?)null,
            uptime_seconds = (double?)null,
            prefixes = 0L,
            messages_received = 0L,
            last_message = (DateTimeOffset?)null,
            last_message_type = (string?)null,
            hold_time_seconds = (int?)null,
        }));
        return Connected(registry).Concat(down).OrderBy(r => r.Peer, StringComparer.Ordinal).ThenBy(r => r.Id).Select(r => r.Row);
    }

    private static IEnumerable<(string Peer, long Id, object Row)> Connected(MetricsRegistry registry)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var s in registry.Collector.Sessions)
        {
            var counters = registry.Sink.Session(s.Id);
            int? hold = counters is { PeerHoldTime: >= 0 } c
                ? (int)Math.Min(c.PeerHoldTime, (s.Config.HoldTime ?? registry.HoldTime).TotalSeconds) : null;
            yield return (s.PeerAddress.ToString(), s.Id, new
            {
                id = s.Id,
                peer = s.PeerAddress.ToString(),
                peer_port = s.Remote.Port,
                peer_as = s.PeerAs,
                bgp_id = s.PeerBgpIdentifier == 0 ? null : BgpIdentifierText(s.PeerBgpIdentifier),
                description = s.Config.Description,
                state = MetricsRegistry.StateName(s.State),
                established_since = s.State == SessionState.Established ? s.EstablishedAt : null,
                uptime_seconds = s.State == SessionState.Established && s.EstablishedAt is { } at ? Math.Round((now - at).TotalSeconds) : (double?)null,
                prefixes = counters?.PrefixCount ?? 0,
                messages_received = counters?.Messages ?? 0,
                last_message = counters?.LastMessage ?? s.LastReceived,
                last_message_type = counters?.LastType,
                hold_time_seconds = hold,
            });
        }
    }

    /// <summary>RFC 4271 §4.2: the BGP Identifier is an IPv4 address in network order, written dotted.</summary>
    private static string BgpIdentifierText(uint id)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, id);
        return new System.Net.IPAddress(bytes).ToString();
    }

    private static object Event(DetectionEvent e) => new
    {
        type = DetectionEvent.TypeName(e.Type),
        state = DetectionEvent.StateName(e.State),
        time = DateTimeOffset.UnixEpoch.AddTicks(e.TimestampMicros * 10),
        @class = e.Class,
        severity = e.Severity,
        peers = e.Peers.Select(p => p.ToString()),
        lan = e.Lan?.ToString(),
        prefix = e.Prefix?.ToString(),
        duration_seconds = e.Duration?.TotalSeconds,
        summary = e.Summary,
    };
}
