using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Pipeline;

/// <summary>
/// JSON lines, one object per element (an announced or withdrawn prefix) and per session event;
/// the schema is in docs/element-schema.md. The attributes of an UPDATE are rendered once and shared
/// by all its prefixes.
/// </summary>
public sealed class ElementJsonWriter
{
    private readonly Stream _output;
    private readonly JsonText _line = new();
    private readonly JsonText _attributes = new();
    private readonly JsonText _peer = new();
    private readonly MemoryStream _eventBuffer = new();
    private readonly Utf8JsonWriter _eventJson;

    public ElementJsonWriter(Stream output)
    {
        _output = output;
        _eventJson = new Utf8JsonWriter(_eventBuffer);
    }

    public long Elements { get; private set; }
    public long Events { get; private set; }
    /// <summary>UPDATEs whose NLRI could not be read to the end (RFC 7606 reported; the rest is written).</summary>
    public long MalformedUpdates { get; private set; }

    public void Write(in CollectorRecord record)
    {
        if (!record.IsMessage) WriteStateEvent(record);
        else if (record.MessageType == BgpMessageType.Update) WriteUpdate(record);
    }

    public void Flush() => _output.Flush();

    private void WriteUpdate(in CollectorRecord record)
    {
        _ribEntry = record.IsRibEntry;
        BeginPeer(record);
        var visitor = new JsonVisitor(this);
        MalformedUpdates += UpdateElements.Visit(record.Message, record.Context, ref visitor, record.IsRibEntry);
    }

    /// <summary>The JSON line of each element of <see cref="UpdateElements"/>.</summary>
    private readonly struct JsonVisitor(ElementJsonWriter writer) : IElementVisitor
    {
        public void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop) =>
            writer.BuildAttributes(attrs, context, hasNextHop, nextHop);

        public void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId) =>
            writer.WriteElement(announce, prefix, hasPathId, pathId);
    }

    private void BeginPeer(in CollectorRecord record)
    {
        _peer.Clear();
        _peer.Append(",\"timestamp\":"u8);
        _peer.AppendTimestamp(record.TimestampMicros);
        _peer.Append(",\"peer_ip\":"u8);
        _peer.AppendQuotedAddress(IpAddressValue.FromIPAddress(record.Session.PeerAddress));
        _peer.Append(",\"peer_asn\":"u8);
        _peer.Append(record.Session.PeerAs);
    }

    /// <summary>The UPDATE being written stands for a RIB dump's route: its announcement is an "R".</summary>
    private bool _ribEntry;

    private void WriteElement(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId)
    {
        _line.Clear();
        _line.Append(!announce ? "{\"type\":\"W\""u8 : _ribEntry ? "{\"type\":\"R\""u8 : "{\"type\":\"A\""u8);
        _line.Append(_peer.Span);
        _line.Append(",\"prefix\":"u8);
        _line.AppendQuotedPrefix(prefix);
        _line.Append(",\"path_id\":"u8);
        if (hasPathId) _line.Append(pathId); else _line.Append("null"u8);
        if (announce) _line.Append(_attributes.Span);
        _line.Append("}\n"u8);
        _output.Write(_line.Span);
        Elements++;
    }

    /// <summary>The attribute fields shared by every prefix of one UPDATE (and one next hop).</summary>
    private void BuildAttributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop)
    {
        var t = _attributes;
        t.Clear();
        t.Append(",\"as_path\":\""u8);
        t.Length += AsPathText.Format(attrs, context.AsSize, t.Room(AsPathText.MaxLength(attrs)));
        t.Append((byte)'"');
        t.Append(",\"next_hop\":"u8);
        if (hasNextHop) t.AppendQuotedAddress(nextHop); else t.Append("null"u8);
        t.Append(",\"origin\":"u8);
        if (attrs.TryGetOrigin(out var origin))
        {
            t.Append((byte)'"');
            t.Append(origin switch { Origin.Igp => "IGP"u8, Origin.Egp => "EGP"u8, _ => "INCOMPLETE"u8 });
            t.Append((byte)'"');
        }
        else t.Append("null"u8);
        t.Append(",\"med\":"u8);
        if (attrs.TryGetMultiExitDisc(out var med)) t.Append(med); else t.Append("null"u8);
        t.Append(",\"local_pref\":"u8);
        if (attrs.TryGetLocalPref(out var localPref)) t.Append(localPref); else t.Append("null"u8);
        t.Append(",\"communities\":["u8);
        for (int i = 0; i < AttributeValues.CommunityCount(attrs.Communities); i++)
        {
            if (i > 0) t.Append((byte)',');
            uint c = AttributeValues.Community(attrs.Communities, i);
            t.Append((byte)'"');
            t.Append(c >> 16);
            t.Append((byte)':');
            t.Append(c & 0xFFFF);
            t.Append((byte)'"');
        }
        t.Append("],\"large_communities\":["u8);
        for (int i = 0; i < AttributeValues.LargeCommunityCount(attrs.LargeCommunities); i++)
        {
            if (i > 0) t.Append((byte)',');
            var (g, l1, l2) = AttributeValues.LargeCommunity(attrs.LargeCommunities, i);
            t.Append((byte)'"');
            t.Append(g);
            t.Append((byte)':');
            t.Append(l1);
            t.Append((byte)':');
            t.Append(l2);
            t.Append((byte)'"');
        }
        t.Append("],\"ext_communities\":["u8);
        for (int i = 0; i < AttributeValues.ExtendedCommunityCount(attrs.ExtendedCommunities); i++)
        {
            if (i > 0) t.Append((byte)',');
            t.Append((byte)'"');
            ExtendedCommunityText.AppendTo(t, AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, i));
            t.Append((byte)'"');
        }
        t.Append((byte)']');
    }

    private void WriteStateEvent(in CollectorRecord record)
    {
        var transition = record.Transition;
        var session = record.Session;
        _eventBuffer.SetLength(0);
        _eventJson.Reset(_eventBuffer);
        _eventJson.WriteStartObject();
        _eventJson.WriteString("type", "state");
        _line.Clear();
        _line.AppendTimestamp(record.TimestampMicros);
        _eventJson.WritePropertyName("timestamp");
        _eventJson.WriteRawValue(_line.Span, skipInputValidation: true);
        _eventJson.WriteString("peer_ip", session.PeerAddress.ToString());
        if (session.PeerAs != 0) _eventJson.WriteNumber("peer_asn", session.PeerAs); else _eventJson.WriteNull("peer_asn");
        _eventJson.WriteNumber("peer_port", session.Remote.Port);
        _eventJson.WriteString("local_ip", (session.Local.Address.IsIPv4MappedToIPv6 ? session.Local.Address.MapToIPv4() : session.Local.Address).ToString());
        _eventJson.WriteString("old_state", transition.From.ToString());
        _eventJson.WriteString("new_state", transition.To.ToString());
        _eventJson.WriteString("reason", ReasonName(transition.Reason.Kind));
        _eventJson.WriteNumber("fsm_event", (int)transition.Event);
        if (transition.Reason.Notification is { } n)
        {
            _eventJson.WriteStartObject("notification");
            _eventJson.WriteString("direction", transition.Reason.NotificationSent ? "sent" : "received");
            _eventJson.WriteNumber("code", n.Code);
            _eventJson.WriteNumber("subcode", n.Subcode);
            _eventJson.WriteString("name", n.Describe());
            if (n.ShutdownText is { } text) _eventJson.WriteString("text", text); else _eventJson.WriteNull("text");
            _eventJson.WriteString("data", Convert.ToHexString(n.Data));
            _eventJson.WriteEndObject();
        }
        else
        {
            _eventJson.WriteNull("notification");
        }
        _eventJson.WriteEndObject();
        _eventJson.Flush();
        _output.Write(_eventBuffer.GetBuffer().AsSpan(0, (int)_eventBuffer.Length));
        _output.WriteByte((byte)'\n');
        Events++;
    }

    /// <summary>Detection events written (docs/element-schema.md, "Detection events").</summary>
    public long Detections { get; private set; }

    public void WriteEvent(DetectionEvent detection)
    {
        _eventBuffer.SetLength(0);
        _eventJson.Reset(_eventBuffer);
        DetectionEventJson.Write(_eventJson, detection);
        _eventJson.Flush();
        _output.Write(_eventBuffer.GetBuffer().AsSpan(0, (int)_eventBuffer.Length));
        _output.WriteByte((byte)'\n');
        Detections++;
    }

    /// <summary>The <c>reason</c> field: the <see cref="ReasonKind"/> in snake case.</summary>
    public static string ReasonName(ReasonKind kind) => kind switch
    {
        ReasonKind.None => "none",
        ReasonKind.Start => "start",
        ReasonKind.AdminStop => "admin_stop",
        ReasonKind.AutomaticStop => "automatic_stop",
        ReasonKind.TcpConnected => "tcp_connected",
        ReasonKind.TcpClosed => "tcp_closed",
        ReasonKind.ConnectRetryTimerExpired => "connect_retry_timer_expired",
        ReasonKind.OpenReceived => "open_received",
        ReasonKind.KeepaliveReceived => "keepalive_received",
        ReasonKind.HoldTimerExpired => "hold_timer_expired",
        ReasonKind.SendHoldTimerExpired => "send_hold_timer_expired",
        ReasonKind.NotificationReceived => "notification_received",
        ReasonKind.ProtocolError => "protocol_error",
        ReasonKind.FsmError => "fsm_error",
        ReasonKind.CollisionDump => "collision_dump",
        _ => kind.ToString(),
    };
}
