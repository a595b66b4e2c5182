using System.Buffers.Binary;
using System.Net;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// How a spilled batch sits in a spool segment, self-contained so that a later process can deliver
/// it: a 36-byte header, then the payload — the batch's record bytes as they are in memory, then its
/// side tables (contexts, sessions, transitions, detection events) in a compact binary form.
/// </summary>
/// <remarks>
/// Header, little-endian:
/// <code>
///  0  magic "BGSP" (u32 0x50534742)
///  4  version (1)
///  5  delivered: 0, set to 1 in place once the sink has taken the batch (not covered by the header CRC,
///     so that one-byte write cannot tear a checksum); a restart skips delivered batches
///  6  reserved (0, u16)
///  8  sequence (i64)
/// 16  records (i32)
/// 20  record bytes (i32), the first part of the payload
/// 24  payload bytes (i32): record bytes + tables
/// 28  CRC-32C of the payload (u32)
/// 32  CRC-32C of bytes 0..31 with the delivered byte as 0 (u32)
/// </code>
/// A kill -9 can stop a write part-way (Linux checks for a fatal signal between pages), so a reader
/// trusts a header only when its CRC holds and a payload only when its CRC holds. CRC-32C because
/// <see cref="BitOperations.Crc32C(uint, ulong)"/> is in the BCL and uses the CPU's instruction.
/// </remarks>
internal static class SpoolFormat
{
    public const int HeaderLength = 36;
    public const uint Magic = 0x50534742;
    public const byte Version = 1;
    public const int DeliveredOffset = 5;

    public static void WriteHeader(Span<byte> header, long sequence, int count, int dataLength, int payloadLength, uint payloadCrc)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[4] = Version;
        header[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], count);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], dataLength);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], payloadCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], Crc32C(header[..32]));
    }

    /// <summary>Reads a header; null with the reason when it is not a whole, valid one.</summary>
    public static string? TryReadHeader(ReadOnlySpan<byte> header, out BatchHeader result)
    {
        result = default;
        if (header.Length < HeaderLength) return "the header is cut short";
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic) return "no batch header (bad magic)";
        Span<byte> check = stackalloc byte[32];
        header[..32].CopyTo(check);
        check[DeliveredOffset] = 0;
        if (Crc32C(check) != BinaryPrimitives.ReadUInt32LittleEndian(header[32..])) return "the header checksum does not match";
        if (header[4] != Version) return $"unknown spool format version {header[4]}";
        result = new BatchHeader(
            BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(header[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(header[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(header[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[28..]),
            header[DeliveredOffset] != 0);
        if (result.Count < 0 || result.DataLength < 0 || result.PayloadLength < result.DataLength) return "the header's lengths are inconsistent";
        return null;
    }

    public static uint Crc32C(ReadOnlySpan<byte> data) => ~Crc32C(~0u, data);

    public static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte b in data) crc = BitOperations.Crc32C(crc, b);
        return crc;
    }

    /// <summary>The side tables of a batch, serialised (only when it spills).</summary>
    public static byte[] WriteTables(in SpoolTables tables)
    {
        var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write((ushort)tables.Contexts.Count);
            foreach (var context in tables.Contexts) WriteContext(w, context);
            w.Write((ushort)tables.Sessions.Count);
            foreach (var session in tables.Sessions) WriteSession(w, session);
            w.Write(tables.Transitions.Count);
            foreach (var transition in tables.Transitions) WriteTransition(w, transition);
            w.Write(tables.Events.Count);
            foreach (var detection in tables.Events) WriteEvent(w, detection);
        }
        return buffer.ToArray();
    }

    /// <summary>Rebuilds the side tables; <paramref name="sessions"/> maps a session of the earlier process (its Id and what it knew then) to one object, so the batches of one recovery share it.</summary>
    public static SpoolTables ReadTables(ReadOnlyMemory<byte> bytes, Dictionary<SessionSnapshot, SessionInfo> sessions)
    {
        if (!MemoryMarshal.TryGetArray(bytes, out var segment)) segment = bytes.ToArray();
        using var r = new BinaryReader(new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false));
        var tables = new SpoolTables([], [], [], []);
        for (int n = r.ReadUInt16(); n > 0; n--) tables.Contexts.Add(ReadContext(r));
        for (int n = r.ReadUInt16(); n > 0; n--) tables.Sessions.Add(ReadSession(r, sessions));
        for (int n = r.ReadInt32(); n > 0; n--) tables.Transitions.Add(ReadTransition(r));
        for (int n = r.ReadInt32(); n > 0; n--) tables.Events.Add(ReadEvent(r));
        if (r.BaseStream.Position != r.BaseStream.Length) throw new InvalidDataException("trailing bytes after the side tables");
        return tables;
    }

    // ADD-PATH is kept per family as BgpDecodeContext names them (its mask is private): bit a*8+s for
    // the 16 named families, bit 16 for every other family, and "all" for WithAddPathForAll, which is
    // how MRT ADDPATH subtypes and most sessions with ADD-PATH everywhere come out equal after a restart.
    private static readonly (Afi Afi, Safi Safi)[] Families =
    [
        .. from afi in new[] { Afi.IPv4, Afi.IPv6 }
           from safi in new[] { Safi.Unicast, Safi.Multicast, Safi.LabeledUnicast, Safi.MplsVpn, Safi.FlowSpec, Safi.FlowSpecVpn, Safi.Evpn, Safi.RouteTargetConstraint }
           select (afi, safi),
        (Afi.L2vpn, Safi.Evpn),
    ];

    private const uint AllFamilies = (1u << 17) - 1;

    private static void WriteContext(BinaryWriter w, BgpDecodeContext context)
    {
        uint addPath = 0;
        for (int i = 0; i < Families.Length; i++)
            if (context.HasAddPath(Families[i].Afi, Families[i].Safi)) addPath |= 1u << i;
        w.Write((byte)((context.FourOctetAs ? 1 : 0) | (context.ExtendedMessage ? 2 : 0)));
        w.Write(addPath);
    }

    private static BgpDecodeContext ReadContext(BinaryReader r)
    {
        byte flags = r.ReadByte();
        uint addPath = r.ReadUInt32();
        var context = BgpDecodeContext.Legacy.WithFourOctetAs((flags & 1) != 0).WithExtendedMessage((flags & 2) != 0);
        if (addPath == AllFamilies) return context.WithAddPathForAll();
        for (int i = 0; i < Families.Length; i++)
            if ((addPath & (1u << i)) != 0) context = context.WithAddPath(Families[i].Afi, Families[i].Safi);
        return context;
    }

    private static void WriteSession(BinaryWriter w, SessionInfo session)
    {
        w.Write(session.Id);
        WriteEndPoint(w, session.Remote);
        WriteEndPoint(w, session.Local);
        w.Write(session.PeerAs);
        w.Write(session.PeerBgpIdentifier);
        WriteContext(w, session.DecodeContext);
        w.Write((byte)session.State);
        WriteNullableTime(w, session.EstablishedAt);
        WriteAddress(w, session.Config.Range.BaseAddress);
        w.Write((byte)session.Config.Range.PrefixLength);
        w.Write((ushort)session.Config.RemoteAs.Count);
        foreach (uint asn in session.Config.RemoteAs) w.Write(asn);
        WriteNullableString(w, session.Config.Description);
    }

    private static SessionInfo ReadSession(BinaryReader r, Dictionary<SessionSnapshot, SessionInfo> sessions)
    {
        long id = r.ReadInt64();
        var remote = ReadEndPoint(r);
        var local = ReadEndPoint(r);
        uint peerAs = r.ReadUInt32();
        uint bgpId = r.ReadUInt32();
        var context = ReadContext(r);
        var state = (SessionState)r.ReadByte();
        var established = ReadNullableTime(r);
        var range = new IPNetwork(ReadAddress(r), r.ReadByte());
        var remoteAs = new uint[r.ReadUInt16()];
        for (int i = 0; i < remoteAs.Length; i++) remoteAs[i] = r.ReadUInt32();
        string? description = ReadNullableString(r);
        // One object per session as the earlier process knew it when the batch spilled: a later batch
        // of the same session after its OPEN gets its own, with the AS and context it had then.
        var key = new SessionSnapshot(id, peerAs, bgpId, context);
        if (sessions.TryGetValue(key, out var known))
        {
            SessionRestore.SetState(known, state);
            return known;
        }
        var config = new PeerConfig { Range = range, RemoteAs = remoteAs, Description = description };
        var session = new SessionInfo(remote, local, config, peerAs);
        SessionRestore.SetPeerBgpIdentifier(session, bgpId);
        SessionRestore.SetDecodeContext(session, context);
        SessionRestore.SetState(session, state);
        SessionRestore.SetEstablishedAt(session, established);
        sessions[key] = session;
        return session;
    }

    private static void WriteTransition(BinaryWriter w, in StateTransition t)
    {
        w.Write((byte)t.From);
        w.Write((byte)t.To);
        w.Write((byte)t.Event);
        w.Write((byte)t.Reason.Kind);
        w.Write(t.Reason.NotificationSent);
        var n = t.Reason.Notification;
        w.Write(n is not null);
        if (n is not null)
        {
            w.Write(n.Code);
            w.Write(n.Subcode);
            WriteNullableString(w, n.ShutdownText);
            w.Write(n.Data.Length);
            w.Write(n.Data);
        }
        WriteTime(w, t.Time);
    }

    private static StateTransition ReadTransition(BinaryReader r)
    {
        var from = (SessionState)r.ReadByte();
        var to = (SessionState)r.ReadByte();
        var ev = (FsmEvent)r.ReadByte();
        var kind = (ReasonKind)r.ReadByte();
        bool sent = r.ReadBoolean();
        NotificationInfo? notification = null;
        if (r.ReadBoolean())
        {
            byte code = r.ReadByte(), subcode = r.ReadByte();
            string? text = ReadNullableString(r);
            notification = new NotificationInfo(code, subcode, text, r.ReadBytes(r.ReadInt32()));
        }
        return new StateTransition(from, to, ev, new TransitionReason(kind, notification, sent), ReadTime(r));
    }

    /// <summary>The type byte's top bit: the event clears (<see cref="DetectionEventState.Cleared"/>). Segments written before the bit existed read as their type's default state.</summary>
    private const byte ClearedBit = 0x80;

    private static void WriteEvent(BinaryWriter w, DetectionEvent e)
    {
        w.Write((byte)((byte)e.Type | (e.State == DetectionEventState.Cleared ? ClearedBit : 0)));
        w.Write(e.TimestampMicros);
        w.Write((ushort)e.Peers.Count);
        foreach (var peer in e.Peers)
        {
            WriteAddress(w, peer.Address);
            w.Write(peer.Asn);
        }
        WriteNullableString(w, e.Class);
        w.Write(e.Lan is not null);
        if (e.Lan is { } lan)
        {
            WriteAddress(w, lan.BaseAddress);
            w.Write((byte)lan.PrefixLength);
        }
        w.Write(e.Prefix is not null);
        if (e.Prefix is { } prefix)
        {
            w.Write((ushort)prefix.Address.Family);
            w.Write((ulong)(prefix.Address.Value >> 64));
            w.Write((ulong)prefix.Address.Value);
            w.Write(prefix.Length);
        }
        w.Write(e.Duration is not null);
        if (e.Duration is { } d) w.Write(d.Ticks);
        w.Write(e.Severity);
        w.Write(e.Summary);
        w.Write(e.Evidence.Count);
        foreach (var (name, value) in e.Evidence)
        {
            w.Write(name);
            w.Write(value);
        }
    }

    private static DetectionEvent ReadEvent(BinaryReader r)
    {
        byte typeByte = r.ReadByte();
        var type = (DetectionEventType)(typeByte & ~ClearedBit);
        long timestamp = r.ReadInt64();
        var peers = new PeerRef[r.ReadUInt16()];
        for (int i = 0; i < peers.Length; i++) peers[i] = new PeerRef(ReadAddress(r), r.ReadUInt32());
        string? cls = ReadNullableString(r);
        IPNetwork? lan = r.ReadBoolean() ? new IPNetwork(ReadAddress(r), r.ReadByte()) : null;
        IpPrefix? prefix = null;
        if (r.ReadBoolean())
        {
            var family = (Afi)r.ReadUInt16();
            var value = new UInt128(r.ReadUInt64(), r.ReadUInt64());
            prefix = new IpPrefix(new IpAddressValue(family, value), r.ReadByte());
        }
        TimeSpan? duration = r.ReadBoolean() ? TimeSpan.FromTicks(r.ReadInt64()) : null;
        string severity = r.ReadString();
        string summary = r.ReadString();
        var evidence = new KeyValuePair<string, string>[r.ReadInt32()];
        for (int i = 0; i < evidence.Length; i++) evidence[i] = new(r.ReadString(), r.ReadString());
        var e = new DetectionEvent
        {
            Type = type, TimestampMicros = timestamp, Peers = peers, Class = cls, Lan = lan, Prefix = prefix,
            Duration = duration, Severity = severity, Summary = summary, Evidence = evidence,
        };
        return (typeByte & ClearedBit) != 0 ? e with { State = DetectionEventState.Cleared } : e;
    }

    private static void WriteEndPoint(BinaryWriter w, IPEndPoint endPoint)
    {
        WriteAddress(w, endPoint.Address);
        w.Write(endPoint.Port);
    }

    private static IPEndPoint ReadEndPoint(BinaryReader r) => new(ReadAddress(r), r.ReadInt32());

    private static void WriteAddress(BinaryWriter w, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        w.Write((byte)length);
        w.Write(bytes[..length]);
        if (length == 16) w.Write(address.ScopeId);
    }

    private static IPAddress ReadAddress(BinaryReader r)
    {
        int length = r.ReadByte();
        if (length is not (4 or 16)) throw new InvalidDataException($"an address of {length} bytes");
        var bytes = r.ReadBytes(length);
        return length == 16 ? new IPAddress(bytes, r.ReadInt64()) : new IPAddress(bytes);
    }

    private static void WriteTime(BinaryWriter w, DateTimeOffset time)
    {
        w.Write(time.UtcTicks);
        w.Write((short)time.Offset.TotalMinutes);
    }

    private static DateTimeOffset ReadTime(BinaryReader r)
    {
        long utcTicks = r.ReadInt64();
        var offset = TimeSpan.FromMinutes(r.ReadInt16());
        return new DateTimeOffset(utcTicks + offset.Ticks, offset);
    }

    private static void WriteNullableTime(BinaryWriter w, DateTimeOffset? time)
    {
        w.Write(time is not null);
        if (time is { } t) WriteTime(w, t);
    }

    private static DateTimeOffset? ReadNullableTime(BinaryReader r) => r.ReadBoolean() ? ReadTime(r) : null;

    private static void WriteNullableString(BinaryWriter w, string? text)
    {
        w.Write(text is not null);
        if (text is not null) w.Write(text);
    }

    private static string? ReadNullableString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}

/// <summary>A batch header as read from a segment.</summary>
internal readonly record struct BatchHeader(long Sequence, int Count, int DataLength, int PayloadLength, uint PayloadCrc, bool Delivered);

/// <summary>What identifies a rebuilt session: the earlier process's Id and the fields a sink writes.</summary>
internal readonly record struct SessionSnapshot(long Id, uint PeerAs, uint BgpIdentifier, BgpDecodeContext Context);

/// <summary>
/// The setters SessionInfo keeps internal to the session layer (it learns them from the OPEN and the
/// FSM). A session rebuilt from the spool must carry what the earlier process knew; the session layer
/// has no public way to build one, so these reach the setters directly (compiled, no reflection).
/// </summary>
internal static class SessionRestore
{
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PeerBgpIdentifier")]
    public static extern void SetPeerBgpIdentifier(SessionInfo session, uint value);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_DecodeContext")]
    public static extern void SetDecodeContext(SessionInfo session, BgpDecodeContext value);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_State")]
    public static extern void SetState(SessionInfo session, SessionState value);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_EstablishedAt")]
    public static extern void SetEstablishedAt(SessionInfo session, DateTimeOffset? value);
}
