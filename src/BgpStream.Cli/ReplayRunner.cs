using System.Buffers;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Dump;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Session;

namespace BgpStream.Cli;

/// <summary>
/// <c>bgpstream replay</c>: BGP4MP / BGP4MP_ET update files and RIB dumps (TABLE_DUMP_V2, TABLE_DUMP:
/// each route an UPDATE announcing it, marked as a RIB entry) through the collector's sinks, several
/// files merged by record time (stable: equal timestamps keep the files' order). Streaming: one
/// pending record per file, its message copied to a pooled buffer. Records go through the same
/// staged pipeline as the collector's, without a spool: a replay reads its files more slowly instead.
/// </summary>
internal sealed class ReplayRunner
{
    private static readonly PeerConfig ReplayPeer = new() { Range = new IPNetwork(IPAddress.Any, 0), Description = "replay" };
    private readonly Dictionary<(IpAddressValue Peer, uint PeerAs, IpAddressValue Local), SessionInfo> _sessions = new();
    private readonly Dictionary<SessionInfo, uint> _localAs = new(ReferenceEqualityComparer.Instance);
    private readonly TextWriter _stderr;

    public ReplayRunner(TextWriter stderr) => _stderr = stderr;

    /// <summary>Replay speed against record time: 1 is real time, 60 a minute of records per second; null: as fast as the sinks go.</summary>
    public double? Speed { get; init; }
    /// <summary>Batching and lanes; the spool directory is ignored (a replay waits for its sinks instead).</summary>
    public PipelineOptions? Pipeline { get; init; }
    /// <summary>Told of progress now and then, and once at the end.</summary>
    public ReplayProgress? Progress { get; init; }

    public long Messages { get; private set; }
    public long StateChanges { get; private set; }
    /// <summary>Routes of RIB dumps (TABLE_DUMP_V2, TABLE_DUMP) replayed as "R" elements.</summary>
    public long RibEntries { get; private set; }
    /// <summary>RIB records of families the element model does not carry (RIB_GENERIC, ...).</summary>
    public long OtherRibRecords { get; private set; }
    public long LocalMessages { get; private set; }
    public long OtherRecords { get; private set; }

    /// <summary>The local AS a session's records carried (for the MRT sink).</summary>
    public uint LocalAsOf(SessionInfo session) => _localAs.GetValueOrDefault(session);

    /// <summary>Replays <paramref name="files"/> ("-" is stdin) into <paramref name="sinks"/>: 0 clean, 1 damaged records, 2 a file could not be read.</summary>
    public int Run(IReadOnlyList<string> files, IReadOnlyList<IRecordSink> sinks)
    {
        int exit = DumpRunner.ExitOk;
        var sources = new List<Source>();
        try
        {
            foreach (var file in files)
            {
                try
                {
                    sources.Add(new Source(this, file, sources.Count));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _stderr.WriteLine($"bgpstream replay: {file}: cannot open: {e.Message}");
                    exit = DumpRunner.ExitCannotOpen;
                }
            }
            var queue = new PriorityQueue<Source, (long Time, int File)>();
            foreach (var s in sources)
                if (s.Advance()) queue.Enqueue(s, (s.Time, s.Index));
            var pipeline = new RecordPipeline(sinks, (Pipeline ?? new PipelineOptions()) with { SpoolDirectory = null });
            var pacer = Speed is { } speed ? new Pacer(speed) : null;
            Progress?.Start(sources.Select(s => s.Input).ToList());
            while (queue.TryDequeue(out var source, out _) && !pipeline.Failed.IsCancellationRequested)
            {
                var record = source.Take();
                if (pacer is not null && pacer.DelayFor(record.TimestampMicros) is { } wait)
                {
                    pipeline.Seal(); // what is due reaches the sinks before we sleep
                    Thread.Sleep(wait);
                }
                pipeline.Add(record);
                record.Release();
                Progress?.Record(record.TimestampMicros);
                if (source.Advance()) queue.Enqueue(source, (source.Time, source.Index));
            }
            pipeline.CompleteAsync().GetAwaiter().GetResult();
            Progress?.Finish();
            if (pipeline.Failure is { } failure) throw failure;
        }
        finally
        {
            foreach (var s in sources) s.Dispose();
        }
        foreach (var s in sources)
        {
            s.ReportCounts();
            if (s.Reader.DiagnosticCount > 0 && exit == DumpRunner.ExitOk) exit = DumpRunner.ExitDataErrors;
        }
        if (OtherRibRecords > 0) _stderr.WriteLine($"bgpstream replay: {OtherRibRecords} RIB records of other families (RIB_GENERIC, ...) skipped");
        if (LocalMessages > 0) _stderr.WriteLine($"bgpstream replay: {LocalMessages} messages sent by the collector (BGP4MP *_LOCAL) skipped");
        if (OtherRecords > 0) _stderr.WriteLine($"bgpstream replay: {OtherRecords} records of other MRT types skipped");
        return exit;
    }

    private SessionInfo SessionFor(in IpAddressValue peer, uint peerAs, in IpAddressValue local, uint localAs)
    {
        if (!_sessions.TryGetValue((peer, peerAs, local), out var session))
        {
            session = new SessionInfo(new IPEndPoint(peer.ToIPAddress(), 0), new IPEndPoint(local.ToIPAddress(), 0), ReplayPeer, peerAs);
            _sessions[(peer, peerAs, local)] = session;
        }
        _localAs[session] = localAs;
        return session;
    }

    /// <summary>One input file and its next record, ready to be written.</summary>
    private sealed class Source : IDisposable
    {
        private readonly ReplayRunner _owner;
        private readonly SessionContextTracker _tracker = new();
        private readonly Dictionary<MrtDiagnosticKind, int> _shown = new();
        /// <summary>What the last MRT record gave, in order: one record, or one per RIB entry.</summary>
        private readonly Queue<CollectorRecord> _ready = new();
        private readonly byte[] _update = new byte[RibEntryUpdate.MaxLength];
        private PeerIndexTable? _peerIndex;

        public Source(ReplayRunner owner, string path, int index)
        {
            _owner = owner;
            Input = path == "-" ? Console.OpenStandardInput()
                : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var reader = new MrtReader(MrtInput.Decompress(Input), path);
            Reader = reader;
            Index = index;
            reader.Diagnostic = d =>
            {
                int n = _shown.GetValueOrDefault(d.Kind) + 1;
                _shown[d.Kind] = n;
                if (n <= DumpRunner.DiagnosticsShownPerKind) _owner._stderr.WriteLine($"bgpstream replay: {d}");
            };
        }

        public MrtReader Reader { get; }
        /// <summary>The file as read from disk (compressed): its position measures progress.</summary>
        public Stream Input { get; }
        public int Index { get; }
        public long Time => _ready.Peek().TimestampMicros;

        public CollectorRecord Take() => _ready.Dequeue();

        /// <summary>Reads up to the next record to replay; false at the end of the file.</summary>
        public bool Advance()
        {
            if (_ready.Count > 0) return true;
            while (Reader.TryRead(out var record))
            {
                switch (record.Type)
                {
                    case MrtType.Bgp4mp or MrtType.Bgp4mpEt:
                        if (TryConvert(record)) return true;
                        break;
                    case MrtType.TableDumpV2:
                        if (TableDumpV2(record)) return true;
                        break;
                    case MrtType.TableDump:
                        if (TableDump(record)) return true;
                        break;
                    default:
                        _owner.OtherRecords++;
                        break;
                }
            }
            return false;
        }

        private bool TableDumpV2(in MrtRecord record)
        {
            if (record.Subtype == (ushort)TableDumpV2Subtype.PeerIndexTable)
            {
                if (PeerIndexTable.TryParse(record.Body, out var table, out var err)) _peerIndex = table;
                else Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, err!);
                return false;
            }
            if (!RibRecord.IsRibSubtype(record.Subtype)) return false;
            if (!RibRecord.TryParse(record.Subtype, record.Body, out var rib, out var error))
            {
                Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error!);
                return false;
            }
            if (!rib.HasPrefix || rib.Afi is not (Afi.IPv4 or Afi.IPv6) || rib.Safi is not (Safi.Unicast or Safi.Multicast))
            {
                _owner.OtherRibRecords++;
                return false;
            }
            if (_peerIndex is null)
            {
                Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, "RIB record before any PEER_INDEX_TABLE");
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
                    Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"RIB entry refers to peer {entry.PeerIndex}, the index has {_peerIndex.Peers.Length}");
                    continue;
                }
                var peer = _peerIndex.Peers[entry.PeerIndex];
                AddRibEntry(record, time, peer.Address, peer.Asn, context, rib.Afi, rib.Safi, rib.Prefix, rib.IsAddPath, entry.PathId, entry.Attributes);
            }
            if (error is not null) Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error);
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
            if (error is not null) Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error);
            return _ready.Count > 0;
        }

        private void AddRibEntry(in MrtRecord record, long time, in IpAddressValue peerAddress, uint peerAs, in BgpDecodeContext context,
            Afi afi, Safi safi, in IpPrefix prefix, bool hasPathId, uint pathId, ReadOnlySpan<byte> attributes)
        {
            int length = RibEntryUpdate.TryWrite(_update, context, afi, safi, prefix, hasPathId, pathId, attributes, out var problem);
            if (length == 0)
            {
                Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, problem!);
                return;
            }
            var session = _owner.SessionFor(peerAddress, peerAs, IpAddressValue.FromIPAddress(IPAddress.Any), 0);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            _update.AsSpan(0, length).CopyTo(buffer);
            _ready.Enqueue(CollectorRecord.ForRibEntry(time, session, buffer, length, context));
            _owner.RibEntries++;
        }

        private bool TryConvert(in MrtRecord record)
        {
            if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out var error))
            {
                Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, error!);
                return false;
            }
            long time = record.Timestamp * 1_000_000L + record.Microseconds;
            var session = _owner.SessionFor(rec.PeerAddress, rec.PeerAs, rec.LocalAddress, rec.LocalAs);
            if (rec.IsStateChange)
            {
                if (rec.OldState is < 1 or > 6 || rec.NewState is < 1 or > 6)
                {
                    Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"BGP4MP state change {rec.OldState} -> {rec.NewState}: states are 1 to 6");
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
                Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"BGP message in BGP4MP record: {bgpError.WithOffsetBase(rec.MessageOffset)}");
                return false;
            }
            if (header.Length > msg.Length)
            {
                Reader.Report(record.Offset, MrtDiagnosticKind.RecordDecodeError, $"BGP message declares {header.Length} bytes, record holds {msg.Length}");
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

        public void ReportCounts()
        {
            foreach (var (kind, count) in _shown)
                if (count > DumpRunner.DiagnosticsShownPerKind)
                    _owner._stderr.WriteLine($"bgpstream replay: {Reader.Source}: {count - DumpRunner.DiagnosticsShownPerKind} more {kind} problems not shown ({count} in all)");
        }

        public void Dispose()
        {
            while (_ready.TryDequeue(out var r)) r.Release();
            Reader.Dispose();
        }
    }
}
