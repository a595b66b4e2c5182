using System.Buffers.Binary;
using BgpStream.Bgp;
using BgpStream.Mrt;

// Shared with the BgpStream.Fuzz console (linked), like BgpDecodeTargets.
namespace BgpStream.Fuzzing;

/// <summary>Runs every MRT record decoder, and the BGP decoders on what the records carry.</summary>
public static class MrtDecodeTargets
{
    private static readonly BgpDecodeContext[] LegacyOnly = [BgpDecodeContext.Legacy];

    /// <summary>
    /// One record (12-byte header + body, as in the file). The body goes through the decoder its
    /// type names and, because a mutated type is as likely as a mutated body, through every other
    /// record decoder as well.
    /// </summary>
    public static void DecodeRecordBytes(ReadOnlySpan<byte> record, DecodeStats stats, SessionContextTracker? sessions = null)
    {
        if (record.Length < MrtConstants.HeaderLength) return;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(record[4..]);
        ushort subtype = BinaryPrimitives.ReadUInt16BigEndian(record[6..]);
        var body = record[MrtConstants.HeaderLength..];
        if (type is (ushort)MrtType.Bgp4mpEt or (ushort)MrtType.IsisEt or (ushort)MrtType.Ospf3Et)
            body = body.Length >= 4 ? body[4..] : default;
        DecodeRecord(type, subtype, body, stats, sessions);
    }

    public static void DecodeRecord(ushort type, ushort subtype, ReadOnlySpan<byte> body, DecodeStats stats, SessionContextTracker? sessions = null)
    {
        stats.Records++;
        sessions ??= new SessionContextTracker();
        switch ((MrtType)type)
        {
            case MrtType.Bgp4mp or MrtType.Bgp4mpEt:
                DecodeBgp4mp(subtype, body, stats, sessions);
                DecodeTableDumpV2(subtype, body, stats);
                break;
            case MrtType.TableDumpV2:
                DecodeTableDumpV2(subtype, body, stats);
                DecodeBgp4mp(subtype, body, stats, sessions);
                break;
            default:
                DecodeBgp4mp(subtype, body, stats, sessions);
                DecodeTableDumpV2(subtype, body, stats);
                break;
        }
        DecodeTableDump(subtype, body, stats);
        DecodeLegacyBgp(subtype, body, stats);
    }

    public static void DecodeBgp4mp(ushort subtype, ReadOnlySpan<byte> body, DecodeStats stats, SessionContextTracker sessions)
    {
        if (!Bgp4mpRecord.TryParse(subtype, body, out var record, out var error))
        {
            stats.RecordError("BGP4MP", error);
            return;
        }
        if (record.MessageOffset < 0 || record.MessageOffset + record.Message.Length > body.Length)
            stats.Violation($"BGP4MP message at {record.MessageOffset}+{record.Message.Length} outside the {body.Length}-byte body");
        if (!record.IsMessage) return;
        var ctx = sessions.ContextFor(record);
        var message = record.Message;
        BgpDecodeTargets.DecodeMessage(message, stats);
        // The context the tracker chose, as the dump tool would use it.
        if (message.Length >= BgpConstants.HeaderLength && BgpMessageHeader.TryParse(message, ctx.MaxMessageLength, out var header, out _)
            && header.Length <= message.Length)
            BgpDecodeTargets.DecodeBodies(message[BgpConstants.HeaderLength..header.Length], BgpConstants.HeaderLength, message.Length, stats, [ctx]);
    }

    public static void DecodeTableDumpV2(ushort subtype, ReadOnlySpan<byte> body, DecodeStats stats)
    {
        if (subtype == (ushort)TableDumpV2Subtype.PeerIndexTable || !RibRecord.IsRibSubtype(subtype))
        {
            if (PeerIndexTable.TryParse(body, out var table, out var perror))
            {
                if (table!.Peers.Length > body.Length) stats.Violation($"PEER_INDEX_TABLE with {table.Peers.Length} peers from {body.Length} bytes");
            }
            else stats.RecordError("PEER_INDEX_TABLE", perror);
            if (subtype == (ushort)TableDumpV2Subtype.PeerIndexTable) return;
        }
        ushort ribSubtype = RibRecord.IsRibSubtype(subtype) ? subtype : (ushort)(2 + subtype % 5);
        if (!RibRecord.TryParse(ribSubtype, body, out var rib, out var error))
        {
            stats.RecordError("RIB", error);
            return;
        }
        _ = rib.RouteDistinguisher.Length;
        var context = BgpDecodeContext.Modern; // RFC 6396 §4.3.4: RIB attributes always carry 4-octet AS numbers
        int guard = 0;
        while (rib.TryReadEntry(out var entry, out error))
        {
            if (!stats.Guard(ref guard, body.Length, "RibRecord.TryReadEntry")) return;
            if (entry.Offset < 0 || entry.Offset + entry.Attributes.Length > body.Length)
                stats.Violation($"RIB entry at {entry.Offset} outside the {body.Length}-byte body");
            DecodeRibAttributes(entry.Attributes, context, rib.Afi, rib.Safi, stats);
        }
        stats.RecordError("RIB entry", error);
        _ = rib.TrailingBytes;
    }

    public static void DecodeTableDump(ushort subtype, ReadOnlySpan<byte> body, DecodeStats stats)
    {
        var reader = new TableDumpReader(subtype, body);
        int guard = 0;
        string? error;
        while (reader.TryRead(out var entry, out error))
        {
            if (!stats.Guard(ref guard, body.Length, "TableDumpReader")) return;
            if (entry.Offset < 0 || entry.Offset >= body.Length) stats.Violation($"TABLE_DUMP entry offset {entry.Offset} outside the body");
            _ = entry.Prefix.ToString();
            DecodeRibAttributes(entry.Attributes, BgpDecodeContext.Legacy, entry.Prefix.Family, Safi.Unicast, stats);
        }
        stats.RecordError("TABLE_DUMP", error);
    }

    public static void DecodeLegacyBgp(ushort subtype, ReadOnlySpan<byte> body, DecodeStats stats)
    {
        if (!LegacyBgpRecord.TryParse(subtype, body, out var record, out var error))
        {
            stats.RecordError("BGP (legacy)", error);
            return;
        }
        // The deprecated BGP type carries message bodies without the 19-byte header.
        if (!record.MessageBody.IsEmpty) BgpDecodeTargets.DecodeBodies(record.MessageBody, 0, record.MessageBody.Length, stats, LegacyOnly);
    }

    private static void DecodeRibAttributes(ReadOnlySpan<byte> attributes, in BgpDecodeContext context, Afi afi, Safi safi, DecodeStats stats)
    {
        var set = PathAttributeSet.Parse(attributes, context, ribEntry: true);
        stats.Check(set.Error, attributes.Length, "PathAttributeSet(rib)");
        BgpDecodeTargets.ExerciseAttributes(ref set, context, attributes.Length, stats);
        var kept = PathAttributeSet.Parse(attributes, context, ribEntry: true, keepMalformed: true);
        stats.Check(kept.Error, attributes.Length, "PathAttributeSet(rib, keepMalformed)");
        if (MpReachNlri.TryParseRibEntry(set.MpReach, afi, safi, out var reach))
            MpReachNlri.TryGetNextHop(reach.NextHop, out _, out _);
    }

    /// <summary>
    /// A whole MRT byte stream through <see cref="MrtReader"/> (plain, non-seekable), every record
    /// decoded: diagnostics must point inside the input, records must advance, and the reader must
    /// stop after a bounded number of reads.
    /// </summary>
    public static void DecodeStream(byte[] data, DecodeStats stats)
    {
        stats.Streams++;
        using var reader = new MrtReader(new NonSeekableStream(data), "fuzz");
        long length = data.Length;
        var diagnostics = new List<MrtDiagnostic>();
        reader.Diagnostic = diagnostics.Add;
        var sessions = new SessionContextTracker();
        long lastOffset = -1;
        int guard = 0;
        while (reader.TryRead(out var record))
        {
            if (!stats.Guard(ref guard, data.Length / MrtConstants.HeaderLength, "MrtReader")) break;
            if (record.Offset <= lastOffset || record.Offset < 0 || record.BodyOffset + record.Body.Length > length)
                stats.Violation($"record at {record.Offset}+{record.Body.Length} out of order or outside the {length}-byte input");
            lastOffset = record.Offset;
            DecodeRecord(record.TypeValue, record.Subtype, record.Body, stats, sessions);
        }
        if (reader.TryRead(out _)) stats.Violation("MrtReader returned a record after reporting the end");
        foreach (var d in diagnostics)
        {
            stats.MrtDiagnostic(d.Kind.ToString());
            if (d.Offset < 0 || d.Offset > length) stats.Violation($"diagnostic outside the {length}-byte input: {d}");
        }
        if (diagnostics.Count != reader.DiagnosticCount) stats.Violation("DiagnosticCount disagrees with the diagnostics reported");
    }
}

/// <summary>A read-only stream that cannot seek and hands out data in small reads, like a pipe or stdin.</summary>
public sealed class NonSeekableStream : Stream
{
    private readonly byte[] _data;
    private readonly int _maxRead;
    private int _pos;

    public NonSeekableStream(byte[] data, int maxRead = 4096)
    {
        _data = data;
        _maxRead = maxRead;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, _maxRead), _data.Length - _pos);
        _data.AsSpan(_pos, n).CopyTo(buffer);
        _pos += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
