using System.Buffers;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.Session;

namespace BgpStream.Pipeline.Replay;

/// <summary>
/// MRT records as the collector's records, the way <c>bgpstream replay</c> feeds them to the
/// pipeline: BGP4MP / BGP4MP_ET messages and state changes, and RIB dumps (TABLE_DUMP_V2 incl.
/// ADDPATH, TABLE_DUMP), each route an UPDATE announcing it (<see cref="RibEntryUpdate"/>) marked as
/// a RIB entry. One session per (peer address, peer AS, local address) — records without a local
/// address join the peer's session —, shared by every file read
/// through one instance; the decode context of a message is chosen as <c>bgpstream dump</c> does
/// (<see cref="SessionContextTracker"/>, with ADD-PATH inferred where the NLRI only parse with Path
/// Identifiers). Messages are copied into arrays from <see cref="ArrayPool{T}.Shared"/>: the
/// consumer releases each record.
/// </summary>
public sealed class MrtReplay
{
    private static readonly PeerConfig ReplayPeer = new() { Range = new IPNetwork(IPAddress.Any, 0), Description = "replay" };
    private readonly Dictionary<(IpAddressValue Peer, uint PeerAs, IpAddressValue Local), SessionInfo> _sessions = new();
    private readonly Dictionary<SessionInfo, uint> _localAs = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(IpAddressValue Peer, uint PeerAs), SessionInfo> _byPeer = new();
    /// <summary>The local address of a RIB dump entry: none (0.0.0.0).</summary>
    private static readonly IpAddressValue UnspecifiedLocal = IpAddressValue.FromIPAddress(IPAddress.Any);

    public long Messages { get; private set; }
    public long StateChanges { get; private set; }
    /// <summary>Routes of RIB dumps (TABLE_DUMP_V2, TABLE_DUMP) replayed as RIB entries.</summary>
    public long RibEntries { get; private set; }
    /// <summary>RIB records of families the element model does not carry (RIB_GENERIC, ...).</summary>
    public long OtherRibRecords { get; private set; }
    /// <summary>Messages the collector itself sent (BGP4MP *_LOCAL): not replayed.</summary>
    public long LocalMessages { get; private set; }
    public long OtherRecords { get; private set; }

    /// <summary>The local AS a session's records carried (for the MRT sink).</summary>
    public uint LocalAsOf(SessionInfo session) => _localAs.GetValueOrDefault(session);

    /// <summary>The records of one MRT file; problems go to <paramref name="reader"/>'s diagnostics with their offsets.</summary>
    public FileReader Open(MrtReader reader) => new(this, reader);

    private SessionInfo SessionFor(in IpAddressValue peer, uint peerAs, in IpAddressValue local, uint localAs)
    {
        if (!_sessions.TryGetValue((peer, peerAs, local), out var session))
        {
            // An unspecified local address (old Zebra STATE_CHANGE records, RIB dump entries) names no
            // session of its own: it joins the peer's session seen so far, so that its state changes
            // and routes land on the session its messages do.
            if (local.Value == UInt128.Zero && _byPeer.TryGetValue((peer, peerAs), out var known))
                return known;
            session = new SessionInfo(new IPEndPoint(peer.ToIPAddress(), 0), new IPEndPoint(local.ToIPAddress(), 0), ReplayPeer, peerAs);
            _sessions[(peer, peerAs, local)] = session;
            _byPeer.TryAdd((peer, peerAs), session);
        }
        _localAs[session] = localAs;
        return session;
    }

    /// <summary>One file's records in order; the reader stays the caller's to dispose.</summary>
    public sealed class FileReader
    {
        private readonly MrtReplay _owner;
        private readonly MrtReader _reader;
        private readonly SessionContextTracker _tracker = new();
        /// <summary>What the last MRT record gave, in order: one record, or one per RIB entry.</summary>
        private readonly Queue<CollectorRecord> _ready = new();
        private readonly byte[] _update = new byte[RibEntryUpdate.MaxLength];
        private PeerIndexTable? _peerIndex;

        internal FileReader(MrtReplay owner, MrtReader reader)
        {
            _owner = owner;
            _reader = reader;
        }

        /// <summary>The next record; false at the end of the file. The caller releases it.</summary>
        public bool TryRead(out CollectorRecord record)
        {
            while (_ready.Count == 0)
            {
                if (!_reader.TryRead(out var mrt))
                {
                    record = default;
                    return false;
                }
                switch (mrt.Type)
                {
                    case MrtType.Bgp4mp or MrtType.Bgp4mpEt:
                        TryConvert(mrt);
                        break;
                    case MrtType.TableDumpV2:
                        TableDumpV2(mrt);
                        break;
                    case MrtType.TableDump:
                        TableDump(mrt);
                        break;
                    default:
                        _owner.OtherRecords++;
                        break;
                }
            }
            record = _ready.Dequeue();
            return true;
        }

        /// <summary>Releases the records converted but not read.</summary>
        public void Discard()
        {
            while (_ready.TryDequeue(out var r)) r.Release();
        }

        private bool TableDumpV2(in MrtRecord record)
        {
            if (record.Subtype == (ushort)TableDumpV2Subtype.PeerIndexTable)
            {
                if (PeerIndexTable.TryParse(record.Body, out var table, out var err)) _peerIndex = table;
                else _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, err!);
                return false;
            }
            if (!RibRecord.IsRibSubtype(record.Subtype)) return false;
            if (!RibRecord.TryParse(record.Subtype, record.Body, out var rib, out var error))
            {
                _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error!);
                return false;
            }
            if (!rib.HasPrefix || rib.Afi is not (Afi.IPv4 or Afi.IPv6) || rib.Safi is not (Safi.Unicast or Safi.Multicast))
            {
                _owner.OtherRibRecords++;
                return false;
            }
            if (_peerIndex is null)
            {
                _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, "RIB record before any PEER_INDEX_TABLE");
                return false;
            }
            // RFC 6396 §4.3.4: RIB entry attributes always use 4-octet AS numbers.
            var context = BgpDecodeContext.Modern;
            if (rib.IsAddPath) context = context.WithAddPath(rib.Afi, rib.Safi);
            long time = record.Timestamp * 1_000_000L + record.Microseconds;
            while (rib.TryReadEntry(out var entry, out error))
            {
                if (entry.PeerIndex >= _peerIndex.Peers.Length)
                {
                    _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"RIB entry refers to peer {entry.PeerIndex}, the index has {_peerIndex.Peers.Length}");
                    continue;
                }
                var peer = _peerIndex.Peers[entry.PeerIndex];
                AddRibEntry(record, time, peer.Address, peer.Asn, context, rib.Afi, rib.Safi, rib.Prefix, rib.IsAddPath, entry.PathId, entry.Attributes);
            }
            if (error is not null) _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error);
            return _ready.Count > 0;
        }

        private bool TableDump(in MrtRecord record)
        {
            var reader = new TableDumpReader(record.Subtype, record.Body);
            // TABLE_DUMP predates 4-octet AS numbers (RFC 6396 §4.2).
            var context = BgpDecodeContext.Legacy.WithExtendedMessage(true);
            long time = record.Timestamp * 1_000_000L + record.Microseconds;
            string? error;
            while (reader.TryRead(out var entry, out error))
                AddRibEntry(record, time, entry.PeerAddress, entry.PeerAs, context, entry.Prefix.Family, Safi.Unicast, entry.Prefix, false, 0, entry.Attributes);
            if (error is not null) _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error);
            return _ready.Count > 0;
        }

        private void AddRibEntry(in MrtRecord record, long time, in IpAddressValue peerAddress, uint peerAs, in BgpDecodeContext context,
            Afi afi, Safi safi, in IpPrefix prefix, bool hasPathId, uint pathId, ReadOnlySpan<byte> attributes)
        {
            int length = RibEntryUpdate.TryWrite(_update, context, afi, safi, prefix, hasPathId, pathId, attributes, out var problem);
            if (length == 0)
            {
                _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, problem!);
                return;
            }
            var session = _owner.SessionFor(peerAddress, peerAs, UnspecifiedLocal, 0);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            _update.AsSpan(0, length).CopyTo(buffer);
            _ready.Enqueue(CollectorRecord.ForRibEntry(time, session, buffer, length, context));
            _owner.RibEntries++;
        }

        private bool TryConvert(in MrtRecord record)
        {
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out var error))
            {
                _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error!);
                return false;
            }
            long time = record.Timestamp * 1_000_000L + record.Microseconds;
            var session = _owner.SessionFor(rec.PeerAddress, rec.PeerAs, rec.LocalAddress, rec.LocalAs);
            if (rec.IsStateChange)
            {
                if (rec.OldState is < 1 or > 6 || rec.NewState is < 1 or > 6)
                {
                    _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"BGP4MP state change {rec.OldState} -> {rec.NewState}: states are 1 to 6");
                    return false;
                }
                var transition = new StateTransition((SessionState)(rec.OldState - 1), (SessionState)(rec.NewState - 1), default,
                    ReasonKind.None, DateTimeOffset.UnixEpoch.AddTicks(time * 10));
                _ready.Enqueue(CollectorRecord.ForTransition(session, transition));
                _owner.StateChanges++;
                return true;
            }
            if (rec.IsLocal)
            {
                _owner.LocalMessages++;
                return false;
            }
            var msg = rec.Message;
            var ctx = _tracker.ContextFor(rec);
            if (!BgpMessageHeader.TryParse(msg, ctx.MaxMessageLength, out var header, out var bgpError))
            {
                _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"BGP message in BGP4MP record: {bgpError.WithOffsetBase(rec.MessageOffset)}");
                return false;
            }
            if (header.Length > msg.Length)
            {
                _reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"BGP message declares {header.Length} bytes, record holds {msg.Length}");
                return false;
            }
            msg = msg[..header.Length];
            if (header.Type == BgpMessageType.Update
                && UpdateMessage.TryParse(msg[BgpConstants.HeaderLength..], ctx, out var update, out _))
            {
                // As dump does: NLRI that only parse with Path Identifiers are ADD-PATH (RFC 8050 §3).
                var attrs = PathAttributeSet.Parse(update.PathAttributes, ctx, update.AttributesOffset, hasNlri: !update.Nlri.IsEmpty,
                    keepMalformed: true);
                if (!SessionContextTracker.NlriWellFormed(update, attrs)) ctx = _tracker.InferAddPath(update, attrs, ctx);
            }
            var buffer = ArrayPool<byte>.Shared.Rent(msg.Length);
            msg.CopyTo(buffer);
            _ready.Enqueue(CollectorRecord.ForMessage(time, session, buffer, msg.Length, ctx));
            _owner.Messages++;
            return true;
        }
    }
}
