using System.Globalization;
using System.Text;
using BgpStream.Arrow;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Pipeline;

/// <summary>
/// The element model (docs/element-schema.md) as Arrow IPC files: <c>updates.YYYYMMDD.HHMM.arrow</c>,
/// one row per element, <c>sessions.YYYYMMDD.HHMM.arrow</c>, one row per session state change, and
/// <c>events.YYYYMMDD.HHMM.arrow</c>, one row per detection event.
/// Files rotate by record time and are published by rename as <see cref="MrtUpdateFileSink"/>'s
/// are (<c>NAME.tmp</c> until the interval is over or the sink is disposed). A file that reaches
/// <see cref="MaxFileBytes"/> within its interval is published early and the interval goes on in
/// <c>updates.YYYYMMDD.HHMM.2.arrow</c>, <c>.3</c>, ... A file is only created once it has a row.
/// Rows go out in batches of <see cref="RowsPerBatch"/>, and at rotation and dispose.
/// </summary>
public sealed class ArrowElementSink : IRecordSink
{
    public const int DefaultRowsPerBatch = 65_536;
    public const long DefaultMaxFileBytes = 1L << 30;

    public static readonly ArrowSchema UpdatesSchema = new ArrowSchema.Builder()
        .Field("type", ArrowType.DictionaryString, nullable: false)
        .Field("timestamp", ArrowType.TimestampMicrosecondUtc, nullable: false)
        .Field("peer_ip", ArrowType.DictionaryString, nullable: false)
        .Field("peer_asn", ArrowType.UInt32, nullable: false)
        .Field("prefix", ArrowType.String, nullable: false)
        .Field("path_id", ArrowType.UInt32)
        // The attribute columns are null on "W" rows (the JSON line has no such field) and never on "A" rows.
        .Field("as_path", ArrowType.String)
        .Field("as_path_asns", ArrowType.List(ArrowType.UInt32, valuesNullable: false))
        .Field("next_hop", ArrowType.String)
        .Field("origin", ArrowType.DictionaryString)
        .Field("med", ArrowType.UInt32)
        .Field("local_pref", ArrowType.UInt32)
        .Field("communities", ArrowType.List(ArrowType.String, valuesNullable: false))
        .Field("large_communities", ArrowType.List(ArrowType.String, valuesNullable: false))
        .Field("ext_communities", ArrowType.List(ArrowType.String, valuesNullable: false))
        .Build();

    public static readonly ArrowSchema SessionsSchema = new ArrowSchema.Builder()
        .Field("type", ArrowType.DictionaryString, nullable: false)
        .Field("timestamp", ArrowType.TimestampMicrosecondUtc, nullable: false)
        .Field("peer_ip", ArrowType.DictionaryString, nullable: false)
        .Field("peer_asn", ArrowType.UInt32)
        .Field("peer_port", ArrowType.UInt16, nullable: false)
        .Field("local_ip", ArrowType.DictionaryString, nullable: false)
        .Field("old_state", ArrowType.DictionaryString, nullable: false)
        .Field("new_state", ArrowType.DictionaryString, nullable: false)
        .Field("reason", ArrowType.DictionaryString, nullable: false)
        .Field("fsm_event", ArrowType.UInt8, nullable: false)
        .Field("notification_direction", ArrowType.DictionaryString)
        .Field("notification_code", ArrowType.UInt8)
        .Field("notification_subcode", ArrowType.UInt8)
        .Field("notification_name", ArrowType.DictionaryString)
        .Field("notification_text", ArrowType.String)
        .Field("notification_data", ArrowType.String)
        .Build();

    /// <summary>Detection events (docs/element-schema.md, "Detection events"): the JSON fields as columns, peers as two lists, evidence as its JSON object text.</summary>
    public static readonly ArrowSchema EventsSchema = new ArrowSchema.Builder()
        .Field("type", ArrowType.DictionaryString, nullable: false)
        .Field("state", ArrowType.DictionaryString, nullable: false)
        .Field("timestamp", ArrowType.TimestampMicrosecondUtc, nullable: false)
        .Field("severity", ArrowType.DictionaryString, nullable: false)
        .Field("class", ArrowType.DictionaryString)
        .Field("lan", ArrowType.String)
        .Field("peer_ips", ArrowType.List(ArrowType.String, valuesNullable: false))
        .Field("peer_asns", ArrowType.List(ArrowType.UInt32, valuesNullable: false))
        .Field("prefix", ArrowType.String)
        .Field("duration", ArrowType.Double)
        .Field("summary", ArrowType.String, nullable: false)
        .Field("evidence", ArrowType.String, nullable: false)
        .Build();

    private readonly string _directory;
    private readonly string _elementsName;
    private readonly long _intervalMicros;
    private readonly List<string> _completed = [];
    private readonly UpdateColumns _updates;
    private readonly SessionColumns _sessions;
    private readonly EventColumns _events;
    private readonly Attributes _attrs = new();
    private long _intervalStart = long.MinValue;
    private SessionInfo? _peerOf;
    private string _peerText = "";
    private bool _disposed;
    /// <summary>The UPDATE being written stands for a RIB dump's route: its announcement is an "R".</summary>
    private bool _ribEntry;

    /// <param name="elementsName">The element files' name stem: <c>updates</c>, or <c>rib</c> for a RIB snapshot's "R" rows.</param>
    public ArrowElementSink(string directory, TimeSpan interval, int rowsPerBatch = DefaultRowsPerBatch, long maxFileBytes = DefaultMaxFileBytes,
        string elementsName = "updates")
    {
        _elementsName = elementsName;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFileBytes);
        MaxFileBytes = maxFileBytes;
        if (interval < TimeSpan.FromMinutes(1)) throw new ArgumentException("the rotation interval is at least a minute", nameof(interval));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowsPerBatch);
        Directory.CreateDirectory(directory);
        _directory = directory;
        _intervalMicros = (long)interval.TotalMicroseconds;
        RowsPerBatch = rowsPerBatch;
        _updates = new UpdateColumns(UpdatesSchema);
        _sessions = new SessionColumns(SessionsSchema);
        _events = new EventColumns(EventsSchema);
    }

    public int RowsPerBatch { get; }
    /// <summary>A file is published once it is this large (checked after each batch), and the interval continues in a new part.</summary>
    public long MaxFileBytes { get; }
    /// <summary>Finished files, oldest first (an interval's updates file before its sessions file).</summary>
    public IReadOnlyList<string> Completed => _completed;
    public string Summary => $"Arrow: {Elements} elements, {Events} session events, {Detections} detection events in {_completed.Count} files";
    public long Detections { get; private set; }
    public long Elements { get; private set; }
    public long Events { get; private set; }
    /// <summary>UPDATEs (or parts of them) that could not be read to the end; what could be read is written.</summary>
    public long MalformedUpdates { get; private set; }

    public void Write(in CollectorRecord record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (record.IsMessage && record.MessageType != BgpMessageType.Update) return;
        RotateTo(record.TimestampMicros);
        if (record.IsMessage) WriteUpdate(record);
        else WriteState(record);
    }

    /// <summary><c>events.YYYYMMDD.HHMM.arrow</c>, rotated with the other files of the interval.</summary>
    public void WriteEvent(DetectionEvent detection)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RotateTo(detection.TimestampMicros);
        var c = _events;
        if (c.File is null) c.Open(NewPath("events"));
        c.Type.Append(DetectionEvent.TypeName(detection.Type));
        c.State.Append(DetectionEvent.StateName(detection.State));
        c.Timestamp.Append(detection.TimestampMicros);
        c.Severity.Append(detection.Severity);
        c.Class.Append(detection.Class);
        c.Lan.Append(detection.Lan?.ToString());
        c.PeerIps.Append();
        foreach (var peer in detection.Peers) c.PeerIpValues.Append((peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address).ToString());
        c.PeerAsns.Append();
        foreach (var peer in detection.Peers) c.PeerAsnValues.Append(peer.Asn);
        if (detection.Prefix is { } prefix)
        {
            Span<byte> text = stackalloc byte[IpText.MaxPrefixLength];
            c.Prefix.AppendUtf8(text[..IpText.FormatPrefix(prefix, text)]);
        }
        else c.Prefix.AppendNull();
        if (detection.Duration is { } d) c.Duration.Append(d.TotalSeconds); else c.Duration.AppendNull();
        c.Summary.Append(detection.Summary);
        c.Evidence.Append(DetectionEventJson.EvidenceText(detection));
        EndRow(c);
        Detections++;
    }

    private void RotateTo(long timestampMicros)
    {
        long start = timestampMicros - timestampMicros % _intervalMicros;
        // Never back (as MrtUpdateFileSink): a record a little late for its interval goes in the current file.
        if (start > _intervalStart)
        {
            FinishFiles();
            _intervalStart = start;
        }
    }

    private void WriteUpdate(in CollectorRecord record)
    {
        var session = record.Session;
        if (!ReferenceEquals(session, _peerOf))
        {
            // IpText as the JSON lines' peer_ip (IPv4-mapped addresses shown as IPv4).
            Span<byte> text = stackalloc byte[IpText.MaxAddressLength];
            int n = IpText.FormatAddress(IpAddressValue.FromIPAddress(session.PeerAddress), text);
            _peerText = Encoding.ASCII.GetString(text[..n]);
            _peerOf = session;
        }
        _ribEntry = record.IsRibEntry;
        var visitor = new RowVisitor(this, record.TimestampMicros, session.PeerAs);
        MalformedUpdates += UpdateElements.Visit(record.Message, record.Context, ref visitor, record.IsRibEntry);
    }

    /// <summary>One row per element of <see cref="UpdateElements"/>.</summary>
    private readonly struct RowVisitor(ArrowElementSink sink, long timestamp, uint peerAs) : IElementVisitor
    {
        public void Attributes(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop) =>
            sink._attrs.Set(attrs, context, hasNextHop, nextHop);

        public void Element(bool announce, in IpPrefix prefix, bool hasPathId, uint pathId) =>
            sink.AppendElement(announce, timestamp, peerAs, prefix, hasPathId, pathId);
    }

    private void AppendElement(bool announce, long timestamp, uint peerAs, in IpPrefix prefix, bool hasPathId, uint pathId)
    {
        var c = _updates;
        if (c.File is null) c.Open(NewPath(_elementsName));
        c.Type.Append(!announce ? "W" : _ribEntry ? "R" : "A");
        c.Timestamp.Append(timestamp);
        c.PeerIp.Append(_peerText);
        c.PeerAsn.Append(peerAs);
        c.Prefix.CommitUtf8(IpText.FormatPrefix(prefix, c.Prefix.ReserveUtf8(IpText.MaxPrefixLength)));
        if (hasPathId) c.PathId.Append(pathId); else c.PathId.AppendNull();
        if (announce) _attrs.AppendTo(c);
        else
        {
            c.AsPath.AppendNull();
            c.AsPathAsns.AppendNull();
            c.NextHop.AppendNull();
            c.Origin.AppendNull();
            c.Med.AppendNull();
            c.LocalPref.AppendNull();
            c.Communities.AppendNull();
            c.LargeCommunities.AppendNull();
            c.ExtCommunities.AppendNull();
        }
        EndRow(c);
        Elements++;
    }

    private void WriteState(in CollectorRecord record)
    {
        var c = _sessions;
        if (c.File is null) c.Open(NewPath("sessions"));
        var transition = record.Transition;
        var session = record.Session;
        c.Type.Append("state");
        c.Timestamp.Append(record.TimestampMicros);
        // As the JSON state events write them.
        c.PeerIp.Append(session.PeerAddress.ToString());
        if (session.PeerAs != 0) c.PeerAsn.Append(session.PeerAs); else c.PeerAsn.AppendNull();
        c.PeerPort.Append((ushort)session.Remote.Port);
        c.LocalIp.Append((session.Local.Address.IsIPv4MappedToIPv6 ? session.Local.Address.MapToIPv4() : session.Local.Address).ToString());
        c.OldState.Append(transition.From.ToString());
        c.NewState.Append(transition.To.ToString());
        c.Reason.Append(ElementJsonWriter.ReasonName(transition.Reason.Kind));
        c.FsmEvent.Append((byte)transition.Event);
        if (transition.Reason.Notification is { } n)
        {
            c.Direction.Append(transition.Reason.NotificationSent ? "sent" : "received");
            c.Code.Append(n.Code);
            c.Subcode.Append(n.Subcode);
            c.Name.Append(n.Describe());
            c.Text.Append(n.ShutdownText);
            c.Data.Append(Convert.ToHexString(n.Data));
        }
        else
        {
            c.Direction.AppendNull();
            c.Code.AppendNull();
            c.Subcode.AppendNull();
            c.Name.AppendNull();
            c.Text.AppendNull();
            c.Data.AppendNull();
        }
        EndRow(c);
        Events++;
    }

    private void EndRow(Columns c)
    {
        c.Builder.EndRow();
        if (c.Builder.Length < RowsPerBatch) return;
        c.WriteBatch();
        if (c.File!.BytesWritten >= MaxFileBytes) _completed.Add(c.Finish());
    }

    private string NewPath(string kind)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(_intervalStart / 1000).UtcDateTime;
        var stem = Path.Combine(_directory, $"{kind}.{time.ToString("yyyyMMdd.HHmm", CultureInfo.InvariantCulture)}");
        // The interval already has a file (it reached the size limit, or the collector restarted
        // within the interval): the next part, never an overwrite.
        var path = stem + ".arrow";
        for (int part = 2; File.Exists(path) || File.Exists(path + ".tmp"); part++) path = $"{stem}.{part}.arrow";
        return path;
    }

    /// <summary>Writes the last batches, the footers, and publishes the open files.</summary>
    private void FinishFiles()
    {
        foreach (var c in new Columns[] { _updates, _sessions, _events })
        {
            if (c.File is null) continue;
            _completed.Add(c.Finish());
        }
    }

    /// <summary>
    /// Nothing to do between batches: rows go out in batches of 64k, at rotation and at dispose, since
    /// a batch per quiet moment would fragment the files.
    /// </summary>
    public void Flush()
    {
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            FinishFiles();
        }
        finally
        {
            _updates.Dispose();
            _sessions.Dispose();
            _events.Dispose();
        }
    }

    /// <summary>The builder of one file kind and the file it currently writes.</summary>
    private abstract class Columns(ArrowSchema schema) : IDisposable
    {
        public RecordBatchBuilder Builder { get; } = new(schema);
        public AtomicArrowFile? File { get; private set; }

        public void Open(string path) => File = AtomicArrowFile.Create(path, Builder.Schema, ArrowIpcFormat.File);

        public void WriteBatch() => WriteBatch(File!);

        private void WriteBatch(AtomicArrowFile file)
        {
            if (Builder.Length == 0) return;
            using var batch = Builder.Build();
            file.WriteRecordBatch(batch);
        }

        public string Finish()
        {
            var file = File!;
            File = null;
            try
            {
                WriteBatch(file);
                file.WriteEnd();
            }
            catch
            {
                file.Abort(); // deletes the .tmp
                throw;
            }
            Builder.ResetDictionaries(); // the next file carries its own dictionaries
            return file.Path;
        }

        public void Dispose()
        {
            File?.Abort();
            File = null;
            Builder.Dispose();
        }
    }

    private sealed class UpdateColumns : Columns
    {
        public UpdateColumns(ArrowSchema schema) : base(schema)
        {
            Type = Builder.Column<DictionaryStringColumnBuilder>("type");
            Timestamp = Builder.Column<TimestampColumnBuilder>("timestamp");
            PeerIp = Builder.Column<DictionaryStringColumnBuilder>("peer_ip");
            PeerAsn = Builder.Column<PrimitiveColumnBuilder<uint>>("peer_asn");
            Prefix = Builder.Column<StringColumnBuilder>("prefix");
            PathId = Builder.Column<PrimitiveColumnBuilder<uint>>("path_id");
            AsPath = Builder.Column<StringColumnBuilder>("as_path");
            AsPathAsns = Builder.Column<ListColumnBuilder>("as_path_asns");
            NextHop = Builder.Column<StringColumnBuilder>("next_hop");
            Origin = Builder.Column<DictionaryStringColumnBuilder>("origin");
            Med = Builder.Column<PrimitiveColumnBuilder<uint>>("med");
            LocalPref = Builder.Column<PrimitiveColumnBuilder<uint>>("local_pref");
            Communities = Builder.Column<ListColumnBuilder>("communities");
            LargeCommunities = Builder.Column<ListColumnBuilder>("large_communities");
            ExtCommunities = Builder.Column<ListColumnBuilder>("ext_communities");
            CommunityValues = (StringColumnBuilder)Communities.Values;
            LargeCommunityValues = (StringColumnBuilder)LargeCommunities.Values;
            ExtCommunityValues = (StringColumnBuilder)ExtCommunities.Values;
        }

        public DictionaryStringColumnBuilder Type { get; }
        public TimestampColumnBuilder Timestamp { get; }
        public DictionaryStringColumnBuilder PeerIp { get; }
        public PrimitiveColumnBuilder<uint> PeerAsn { get; }
        public StringColumnBuilder Prefix { get; }
        public PrimitiveColumnBuilder<uint> PathId { get; }
        public StringColumnBuilder AsPath { get; }
        public ListColumnBuilder AsPathAsns { get; }
        public StringColumnBuilder NextHop { get; }
        public DictionaryStringColumnBuilder Origin { get; }
        public PrimitiveColumnBuilder<uint> Med { get; }
        public PrimitiveColumnBuilder<uint> LocalPref { get; }
        public ListColumnBuilder Communities { get; }
        public ListColumnBuilder LargeCommunities { get; }
        public ListColumnBuilder ExtCommunities { get; }
        public StringColumnBuilder CommunityValues { get; }
        public StringColumnBuilder LargeCommunityValues { get; }
        public StringColumnBuilder ExtCommunityValues { get; }
    }

    private sealed class SessionColumns : Columns
    {
        public SessionColumns(ArrowSchema schema) : base(schema)
        {
            Type = Builder.Column<DictionaryStringColumnBuilder>("type");
            Timestamp = Builder.Column<TimestampColumnBuilder>("timestamp");
            PeerIp = Builder.Column<DictionaryStringColumnBuilder>("peer_ip");
            PeerAsn = Builder.Column<PrimitiveColumnBuilder<uint>>("peer_asn");
            PeerPort = Builder.Column<PrimitiveColumnBuilder<ushort>>("peer_port");
            LocalIp = Builder.Column<DictionaryStringColumnBuilder>("local_ip");
            OldState = Builder.Column<DictionaryStringColumnBuilder>("old_state");
            NewState = Builder.Column<DictionaryStringColumnBuilder>("new_state");
            Reason = Builder.Column<DictionaryStringColumnBuilder>("reason");
            FsmEvent = Builder.Column<PrimitiveColumnBuilder<byte>>("fsm_event");
            Direction = Builder.Column<DictionaryStringColumnBuilder>("notification_direction");
            Code = Builder.Column<PrimitiveColumnBuilder<byte>>("notification_code");
            Subcode = Builder.Column<PrimitiveColumnBuilder<byte>>("notification_subcode");
            Name = Builder.Column<DictionaryStringColumnBuilder>("notification_name");
            Text = Builder.Column<StringColumnBuilder>("notification_text");
            Data = Builder.Column<StringColumnBuilder>("notification_data");
        }

        public DictionaryStringColumnBuilder Type { get; }
        public TimestampColumnBuilder Timestamp { get; }
        public DictionaryStringColumnBuilder PeerIp { get; }
        public PrimitiveColumnBuilder<uint> PeerAsn { get; }
        public PrimitiveColumnBuilder<ushort> PeerPort { get; }
        public DictionaryStringColumnBuilder LocalIp { get; }
        public DictionaryStringColumnBuilder OldState { get; }
        public DictionaryStringColumnBuilder NewState { get; }
        public DictionaryStringColumnBuilder Reason { get; }
        public PrimitiveColumnBuilder<byte> FsmEvent { get; }
        public DictionaryStringColumnBuilder Direction { get; }
        public PrimitiveColumnBuilder<byte> Code { get; }
        public PrimitiveColumnBuilder<byte> Subcode { get; }
        public DictionaryStringColumnBuilder Name { get; }
        public StringColumnBuilder Text { get; }
        public StringColumnBuilder Data { get; }
    }

    private sealed class EventColumns : Columns
    {
        public EventColumns(ArrowSchema schema) : base(schema)
        {
            Type = Builder.Column<DictionaryStringColumnBuilder>("type");
            State = Builder.Column<DictionaryStringColumnBuilder>("state");
            Timestamp = Builder.Column<TimestampColumnBuilder>("timestamp");
            Severity = Builder.Column<DictionaryStringColumnBuilder>("severity");
            Class = Builder.Column<DictionaryStringColumnBuilder>("class");
            Lan = Builder.Column<StringColumnBuilder>("lan");
            PeerIps = Builder.Column<ListColumnBuilder>("peer_ips");
            PeerIpValues = (StringColumnBuilder)PeerIps.Values;
            PeerAsns = Builder.Column<ListColumnBuilder>("peer_asns");
            PeerAsnValues = (PrimitiveColumnBuilder<uint>)PeerAsns.Values;
            Prefix = Builder.Column<StringColumnBuilder>("prefix");
            Duration = Builder.Column<PrimitiveColumnBuilder<double>>("duration");
            Summary = Builder.Column<StringColumnBuilder>("summary");
            Evidence = Builder.Column<StringColumnBuilder>("evidence");
        }

        public DictionaryStringColumnBuilder Type { get; }
        public DictionaryStringColumnBuilder State { get; }
        public TimestampColumnBuilder Timestamp { get; }
        public DictionaryStringColumnBuilder Severity { get; }
        public DictionaryStringColumnBuilder Class { get; }
        public StringColumnBuilder Lan { get; }
        public ListColumnBuilder PeerIps { get; }
        public StringColumnBuilder PeerIpValues { get; }
        public ListColumnBuilder PeerAsns { get; }
        public PrimitiveColumnBuilder<uint> PeerAsnValues { get; }
        public StringColumnBuilder Prefix { get; }
        public PrimitiveColumnBuilder<double> Duration { get; }
        public StringColumnBuilder Summary { get; }
        public StringColumnBuilder Evidence { get; }
    }

    /// <summary>The attribute values of one UPDATE's announced prefixes, decoded once and appended per row.</summary>
    private sealed class Attributes
    {
        private readonly JsonText _asPath = new();
        private readonly JsonText _nextHop = new();
        private readonly Items _communities = new(), _large = new(), _ext = new();
        private uint[] _asns = new uint[64];
        private int _asnCount;
        private bool _hasNextHop;
        private string? _origin;
        private uint? _med, _localPref;

        public void Set(in PathAttributeSet attrs, in BgpDecodeContext context, bool hasNextHop, in IpAddressValue nextHop)
        {
            _asPath.Clear();
            _asPath.Length += AsPathText.Format(attrs, context.AsSize, _asPath.Room(AsPathText.MaxLength(attrs)));
            _asnCount = UpdateElements.SequenceHops(attrs, context.AsSize, ref _asns);
            _hasNextHop = hasNextHop;
            _nextHop.Clear();
            if (hasNextHop) _nextHop.Length += IpText.FormatAddress(nextHop, _nextHop.Room(IpText.MaxAddressLength));
            _origin = attrs.TryGetOrigin(out var origin)
                ? origin switch { Origin.Igp => "IGP", Origin.Egp => "EGP", _ => "INCOMPLETE" }
                : null;
            _med = attrs.TryGetMultiExitDisc(out var med) ? med : null;
            _localPref = attrs.TryGetLocalPref(out var localPref) ? localPref : null;

            _communities.Clear();
            for (int i = 0; i < AttributeValues.CommunityCount(attrs.Communities); i++)
            {
                uint c = AttributeValues.Community(attrs.Communities, i);
                _communities.Text.Append(c >> 16);
                _communities.Text.Append((byte)':');
                _communities.Text.Append(c & 0xFFFF);
                _communities.End();
            }
            _large.Clear();
            for (int i = 0; i < AttributeValues.LargeCommunityCount(attrs.LargeCommunities); i++)
            {
                var (g, l1, l2) = AttributeValues.LargeCommunity(attrs.LargeCommunities, i);
                _large.Text.Append(g);
                _large.Text.Append((byte)':');
                _large.Text.Append(l1);
                _large.Text.Append((byte)':');
                _large.Text.Append(l2);
                _large.End();
            }
            _ext.Clear();
            for (int i = 0; i < AttributeValues.ExtendedCommunityCount(attrs.ExtendedCommunities); i++)
            {
                ExtendedCommunityText.AppendTo(_ext.Text, AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, i));
                _ext.End();
            }
        }

        public void AppendTo(UpdateColumns c)
        {
            c.AsPath.AppendUtf8(_asPath.Span);
            c.AsPathAsns.Append<uint>(_asns.AsSpan(0, _asnCount));
            if (_hasNextHop) c.NextHop.AppendUtf8(_nextHop.Span); else c.NextHop.AppendNull();
            c.Origin.Append(_origin);
            c.Med.Append(_med);
            c.LocalPref.Append(_localPref);
            c.Communities.Append();
            c.CommunityValues.AppendUtf8Values(_communities.Text.Span, _communities.Ends);
            c.LargeCommunities.Append();
            c.LargeCommunityValues.AppendUtf8Values(_large.Text.Span, _large.Ends);
            c.ExtCommunities.Append();
            c.ExtCommunityValues.AppendUtf8Values(_ext.Text.Span, _ext.Ends);
        }

        /// <summary>The texts of one list's items back to back, and where each ends: appended to a row in one call.</summary>
        private sealed class Items
        {
            private int[] _ends = new int[16];
            private int _count;

            public JsonText Text { get; } = new();
            public ReadOnlySpan<int> Ends => _ends.AsSpan(0, _count);

            public void Clear()
            {
                Text.Clear();
                _count = 0;
            }

            /// <summary>The item written to <see cref="Text"/> since the last one is complete.</summary>
            public void End()
            {
                if (_count == _ends.Length) Array.Resize(ref _ends, _count * 2);
                _ends[_count++] = Text.Length;
            }
        }
    }
}
