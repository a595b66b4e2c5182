using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using BgpStream.Arrow.Tests;
using BgpStream.Bgp;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>
/// The Arrow files of <see cref="ArrowElementSink"/> read by three independent readers (apache-arrow,
/// arrow-rs via parquet-wasm, DuckDB via duckdb-wasm; tests/BgpStream.Arrow.Tests/readers) and compared,
/// value by value, with the JSON lines <see cref="ElementJsonWriter"/> writes for the same records:
/// one element model (docs/element-schema.md).
/// </summary>
public sealed partial class ArrowElementSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-arrow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SessionInfo Session = new(IPEndPoint.Parse("192.0.2.2:40000"), IPEndPoint.Parse("192.0.2.1:179"), PeerConfig.Parse("192.0.2.2=65001"))
    {
        PeerAs = 65001,
    };

    private static readonly SessionInfo Session6 = new(IPEndPoint.Parse("[2001:db8::2]:40001"), IPEndPoint.Parse("[2001:db8::1]:179"), PeerConfig.Parse("2001:db8::2=any"));

    private static CollectorRecord At(long micros, CollectorRecord r) => r.IsMessage
        ? CollectorRecord.ForMessage(micros, r.Session, r.Buffer!, r.Length, r.Context)
        : throw new ArgumentException("a message", nameof(r));

    private static CollectorRecord State(SessionInfo session, long micros, SessionState from, SessionState to, ReasonKind reason,
        NotificationInfo? notification = null, bool sent = false) =>
        CollectorRecord.ForTransition(session, new StateTransition(from, to, FsmEvent.NotifMsg, new TransitionReason(reason, notification, sent),
            DateTimeOffset.UnixEpoch.AddTicks(micros * 10)));

    private static CollectorRecord Simple(long micros, string prefix) => At(micros, ElementJsonWriterTests.Update(w =>
    {
        w.Attributes = (ref UpdateMessageWriter writer) =>
        {
            writer.AddOrigin(Origin.Igp);
            writer.AddAsSequence([65001, 64512]);
            writer.AddNextHop(0xC0000202);
        };
        w.Nlri.Add(prefix);
    }));

    /// <summary>AS_PATH segments (type, ASNs) in wire form.</summary>
    private static byte[] Segments(int asSize, params (AsPathSegmentType Type, uint[] Asns)[] segments)
    {
        var bytes = new List<byte>();
        foreach (var (type, asns) in segments)
        {
            bytes.Add((byte)type);
            bytes.Add((byte)asns.Length);
            foreach (var a in asns)
            {
                if (asSize == 4) bytes.AddRange([(byte)(a >> 24), (byte)(a >> 16)]);
                bytes.AddRange([(byte)(a >> 8), (byte)a]);
            }
        }
        return [.. bytes];
    }

    /// <summary>Every kind of element and event the model has.</summary>
    private static List<CollectorRecord> Records()
    {
        const long t = 1_764_374_400_123_456;
        var records = new List<CollectorRecord>
        {
            State(Session, t - 10, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived),
            // withdrawals first, shared attributes, every community kind
            At(t, ElementJsonWriterTests.Update(w =>
            {
                w.Withdrawn.Add("10.9.0.0/16");
                w.Attributes = (ref UpdateMessageWriter writer) =>
                {
                    writer.AddOrigin(Origin.Incomplete);
                    writer.AddAsSequence([65001, 4200000001]);
                    writer.AddNextHop(0xC0000202);
                    writer.AddMultiExitDisc(10);
                    writer.AddLocalPref(200);
                    writer.AddCommunities([65001u << 16 | 7, 65001u << 16 | 8]);
                    writer.AddLargeCommunities([(65001u, 1u, 2u)]);
                    writer.AddExtendedCommunities([0x0002FDE900000064, 0x0102C0000201000A, 0x0202FA56EA010007, 0x4002FDE900000064, 0x0302000000000001]);
                };
                w.Nlri.AddRange(["10.0.0.0/24", "10.0.1.0/24"]);
            })),
            // MP_REACH IPv6 with ADD-PATH, no MED/LOCAL_PREF/communities
            At(t + 1, ElementJsonWriterTests.Update(w => w.Attributes = (ref UpdateMessageWriter writer) =>
            {
                writer.AddOrigin(Origin.Egp);
                writer.AddAsSequence([65001]);
                writer.AddMpReach(Afi.IPv6, Safi.Unicast, IPAddress.Parse("2001:db8::2").GetAddressBytes(),
                    [IpPrefix.Parse("2001:db8:1::/48"), IpPrefix.Parse("2001:db8:2::/48")], [1, 2]);
            }, BgpDecodeContext.Modern.WithAddPath(Afi.IPv6, Safi.Unicast))),
            // MP_UNREACH IPv6 with ADD-PATH
            At(t + 2, ElementJsonWriterTests.Update(w => w.Attributes = (ref UpdateMessageWriter writer) =>
                writer.AddMpUnreach(Afi.IPv6, Safi.Unicast, [IpPrefix.Parse("2001:db8:1::/48")], [1]),
                BgpDecodeContext.Modern.WithAddPath(Afi.IPv6, Safi.Unicast))),
            // AS_SET and confederation segments: in as_path, not in as_path_asns
            At(t + 3, ElementJsonWriterTests.Update(w =>
            {
                w.Attributes = (ref UpdateMessageWriter writer) =>
                {
                    writer.AddOrigin(Origin.Igp);
                    writer.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.AsPath, Segments(4,
                        (AsPathSegmentType.AsConfedSequence, [65100, 65101]), (AsPathSegmentType.AsConfedSet, [65102]),
                        (AsPathSegmentType.AsSequence, [65001, 65002]), (AsPathSegmentType.AsSet, [64512, 64513])));
                    writer.AddNextHop(0xC0000203);
                };
                w.Nlri.Add("10.2.0.0/16");
            })),
            // a 2-octet session: AS4_PATH merged (RFC 6793 §4.2.3)
            At(t + 4, ElementJsonWriterTests.Update(w =>
            {
                w.Attributes = (ref UpdateMessageWriter writer) =>
                {
                    writer.AddOrigin(Origin.Igp);
                    writer.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.AsPath, Segments(2, (AsPathSegmentType.AsSequence, [65001, 23456, 23456])));
                    writer.AddAttribute(PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.As4Path,
                        Segments(4, (AsPathSegmentType.AsSequence, [4200000001, 4200000002])));
                    writer.AddNextHop(0xC0000204);
                };
                w.Nlri.Add("10.3.0.0/16");
            }, BgpDecodeContext.Legacy)),
            // RFC 7606 treat-as-withdraw: the announcement becomes a "W" row
            At(t + 5, ElementJsonWriterTests.Update(w =>
            {
                w.Attributes = (ref UpdateMessageWriter writer) =>
                {
                    writer.AddAttribute(PathAttributeFlags.Transitive, PathAttributeType.Origin, [0, 0]);
                    writer.AddAsSequence([65001]);
                    writer.AddNextHop(0xC0000202);
                };
                w.Nlri.Add("10.4.0.0/24");
            })),
            // an empty AS_PATH (iBGP style), no next hop
            At(t + 6, ElementJsonWriterTests.Update(w =>
            {
                w.Attributes = (ref UpdateMessageWriter writer) => writer.AddOrigin(Origin.Igp);
                w.Nlri.Add("10.5.0.0/24");
            })),
            State(Session, t + 7, SessionState.Established, SessionState.Idle, ReasonKind.NotificationReceived,
                new NotificationInfo(6, 2, "maintenance \"now\" ✓", [0x14, 0x6D])),
            State(Session6, t + 8, SessionState.Idle, SessionState.Connect, ReasonKind.Start),
            State(Session6, t + 9, SessionState.OpenSent, SessionState.Idle, ReasonKind.ProtocolError,
                new NotificationInfo(2, 2, null, [0xFD, 0xE9]), sent: true),
        };
        return records;
    }

    private static List<JsonElement> JsonLines(IEnumerable<CollectorRecord> records)
    {
        using var stream = new MemoryStream();
        var writer = new ElementJsonWriter(stream);
        foreach (var r in records) writer.Write(r);
        writer.Flush();
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        return text.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private static void RequireReaders()
    {
        if (NodeReaders.MissingPrerequisite() is { } missing) Assert.Fail(missing);
    }

    private static JsonElement ReadOne(string reader, string file)
    {
        var result = NodeReaders.Read(reader, [file])[file];
        if (result.TryGetProperty("error", out var error)) Assert.Fail($"{reader} could not read {file}: {error}");
        return result;
    }

    [Fact]
    public void Three_readers_see_the_JSON_lines_values()
    {
        RequireReaders();
        var records = Records();
        var json = JsonLines(records);
        string updates, sessions;
        using (var sink = new ArrowElementSink(_dir, TimeSpan.FromMinutes(15), rowsPerBatch: 3))
        {
            foreach (var r in records) sink.Write(r);
            Assert.Equal(json.Count(l => l.GetProperty("type").GetString() != "state"), sink.Elements);
            Assert.Equal(json.Count(l => l.GetProperty("type").GetString() == "state"), sink.Events);
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        updates = Path.Combine(_dir, "updates.20251129.0000.arrow");
        sessions = Path.Combine(_dir, "sessions.20251129.0000.arrow");
        Assert.Equal([sessions, updates], Directory.GetFiles(_dir).Order());

        var elements = json.Where(l => l.GetProperty("type").GetString() != "state").ToList();
        var events = json.Where(l => l.GetProperty("type").GetString() == "state").ToList();
        Assert.Equal(10, elements.Count); // every case above gave its rows
        foreach (var reader in NodeReaders.Names)
        {
            var u = ReadOne(reader, updates);
            Assert.Equal(ArrowElementSink.UpdatesSchema.Fields.Select(f => f.Name), u.GetProperty("schema").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
            CompareElements(reader, elements, u.GetProperty("columns"));
            var s = ReadOne(reader, sessions);
            Assert.Equal(ArrowElementSink.SessionsSchema.Fields.Select(f => f.Name), s.GetProperty("schema").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
            CompareEvents(reader, events, s.GetProperty("columns"));
            if (reader != "duckdb") Assert.Equal([3, 3, 3, 1], u.GetProperty("batches").EnumerateArray().Select(b => b.GetInt32()));
        }

        // The types, as apache-arrow reports them.
        var types = ReadOne("arrow-js", updates).GetProperty("schema").EnumerateArray()
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => (f.GetProperty("type").GetString(), f.GetProperty("nullable").GetBoolean()));
        Assert.Equal(("dictionary<int32,utf8>", false), types["type"]);
        Assert.Equal(("timestamp[us,UTC]", false), types["timestamp"]);
        Assert.Equal(("dictionary<int32,utf8>", false), types["peer_ip"]);
        Assert.Equal(("uint32", false), types["peer_asn"]);
        Assert.Equal(("utf8", false), types["prefix"]);
        Assert.Equal(("uint32", true), types["path_id"]);
        Assert.Equal(("utf8", true), types["as_path"]);
        Assert.Equal(("list<uint32 not null>", true), types["as_path_asns"]);
        Assert.Equal(("dictionary<int32,utf8>", true), types["origin"]);
        Assert.Equal(("list<utf8 not null>", true), types["ext_communities"]);
    }

    private static string? Cell(JsonElement column, int row) => column[row].ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => column[row].GetString(),
        var kind => throw new InvalidOperationException($"cell of kind {kind}"),
    };

    /// <summary>A JSON value as the canonical reader cell: numbers and strings as text, null as null.</summary>
    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        var kind => throw new InvalidOperationException($"value of kind {kind}"),
    };

    private static long Micros(JsonElement timestamp) => (long)(timestamp.GetDecimal() * 1_000_000m);

    private static string[]? List(JsonElement column, int row) =>
        column[row].ValueKind == JsonValueKind.Null ? null : column[row].EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>The documented as_path_asns: the as_path text without its {set}, (confed sequence) and [confed set] segments.</summary>
    private static string[] SequenceHops(string asPath) =>
        Segment().Replace(asPath, " ").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [GeneratedRegex(@"\{[^}]*\}|\([^)]*\)|\[[^\]]*\]")]
    private static partial Regex Segment();

    private static void CompareElements(string reader, List<JsonElement> lines, JsonElement columns)
    {
        Assert.Equal(lines.Count, columns.GetProperty("type").GetArrayLength());
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            string where = $"{reader}, element {i}: {line}";
            Assert.True(Cell(columns.GetProperty("type"), i) == line.GetProperty("type").GetString(), where);
            Assert.True(Cell(columns.GetProperty("timestamp"), i) == Micros(line.GetProperty("timestamp")).ToString(), where);
            foreach (var name in new[] { "peer_ip", "peer_asn", "prefix", "path_id" })
                Assert.True(Cell(columns.GetProperty(name), i) == Text(line.GetProperty(name)), $"{name}: {where}");
            bool announced = line.GetProperty("type").GetString() == "A";
            foreach (var name in new[] { "as_path", "next_hop", "origin", "med", "local_pref" })
            {
                var expected = announced ? Text(line.GetProperty(name)) : null;
                Assert.True(Cell(columns.GetProperty(name), i) == expected, $"{name}: got {Cell(columns.GetProperty(name), i) ?? "null"}; {where}");
            }
            foreach (var name in new[] { "communities", "large_communities", "ext_communities" })
            {
                var expected = announced ? line.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray() : null;
                Assert.True(Same(expected, List(columns.GetProperty(name), i)), $"{name}: {where}");
            }
            var hops = announced ? SequenceHops(line.GetProperty("as_path").GetString()!) : null;
            Assert.True(Same(hops, List(columns.GetProperty("as_path_asns"), i)),
                $"as_path_asns: got [{string.Join(",", List(columns.GetProperty("as_path_asns"), i) ?? [])}]; {where}");
        }
    }

    private static bool Same(string[]? a, string[]? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);

    private static void CompareEvents(string reader, List<JsonElement> lines, JsonElement columns)
    {
        Assert.Equal(lines.Count, columns.GetProperty("type").GetArrayLength());
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            string where = $"{reader}, event {i}: {line}";
            Assert.True(Cell(columns.GetProperty("timestamp"), i) == Micros(line.GetProperty("timestamp")).ToString(), where);
            foreach (var name in new[] { "type", "peer_ip", "peer_asn", "peer_port", "local_ip", "old_state", "new_state", "reason", "fsm_event" })
                Assert.True(Cell(columns.GetProperty(name), i) == Text(line.GetProperty(name)), $"{name}: {where}");
            var notification = line.GetProperty("notification");
            foreach (var name in new[] { "direction", "code", "subcode", "name", "text", "data" })
            {
                var expected = notification.ValueKind == JsonValueKind.Null ? null : Text(notification.GetProperty(name));
                Assert.True(Cell(columns.GetProperty("notification_" + name), i) == expected, $"notification_{name}: {where}");
            }
        }
    }

    [Fact]
    public void Detection_events_go_to_their_own_file_and_three_readers_see_the_JSON_values()
    {
        RequireReaders();
        const long t0 = 1_764_374_400_000_000; // 2025-11-29 00:00:00 UTC
        DetectionEvent[] detections =
        [
            new()
            {
                Type = DetectionEventType.CullStart, TimestampMicros = t0 + 1, Severity = "critical", Class = "involuntary",
                Lan = IPNetwork.Parse("2001:7f8:54::/64"), Peers = [new(IPAddress.Parse("2001:7f8:54::32"), 34177), new(IPAddress.Parse("2001:7f8:54::1:31"), 31122)],
                Summary = "2 sessions went down within 2 s", Evidence = [new("window_s", "180"), new("text", "maintenance \"ticket\" ✓")],
            },
            new()
            {
                Type = DetectionEventType.ZombieCleared, TimestampMicros = t0 + 2, Severity = "info", Peers = [new(IPAddress.Parse("192.0.2.9"), 0)],
                Prefix = IpPrefix.Parse("203.0.113.0/24"), Duration = TimeSpan.FromSeconds(67.5), Summary = "cleared",
            },
            new()
            {
                Type = DetectionEventType.StuckWarning, State = DetectionEventState.Cleared, TimestampMicros = t0 + 3, Severity = "info", Class = "send_queue",
                Peers = [new(IPAddress.Parse("192.0.2.10"), 64500)], Duration = TimeSpan.FromSeconds(280), Summary = "our send queue drained again",
                Evidence = [new("warned_at", "2025-11-28T23:55:20.000000Z")],
            },
        ];
        using (var sink = new ArrowElementSink(_dir, TimeSpan.FromMinutes(15), rowsPerBatch: 1))
        {
            sink.Write(Simple(t0, "10.0.0.0/24"));
            foreach (var d in detections) sink.WriteEvent(d);
            Assert.Equal(3, sink.Detections);
        }
        var events = Path.Combine(_dir, "events.20251129.0000.arrow");
        Assert.Equal([events, Path.Combine(_dir, "updates.20251129.0000.arrow")], Directory.GetFiles(_dir).Order());
        var lines = detections.Select(d => JsonDocument.Parse(DetectionEventJson.ToUtf8(d)).RootElement.Clone()).ToList();
        // cull_start raises, zombie_cleared clears by its type, the drained send queue's stuck_warning by its state.
        Assert.Equal(["raised", "cleared", "cleared"], lines.Select(l => l.GetProperty("state").GetString()));
        foreach (var reader in NodeReaders.Names)
        {
            var read = ReadOne(reader, events);
            Assert.Equal(ArrowElementSink.EventsSchema.Fields.Select(f => f.Name), read.GetProperty("schema").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
            var columns = read.GetProperty("columns");
            for (int i = 0; i < lines.Count; i++)
            {
                var line = lines[i];
                string where = $"{reader}, event {i}";
                Assert.True(Cell(columns.GetProperty("timestamp"), i) == Micros(line.GetProperty("timestamp")).ToString(), where);
                foreach (var name in new[] { "type", "state", "severity", "class", "lan", "prefix", "summary" })
                    Assert.True(Cell(columns.GetProperty(name), i) == Text(line.GetProperty(name)), $"{name}: {where}");
                Assert.Equal(line.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()!), List(columns.GetProperty("peer_ips"), i)!);
                Assert.Equal(line.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("asn") is { ValueKind: JsonValueKind.Number } a ? a.GetRawText() : "0"),
                    List(columns.GetProperty("peer_asns"), i)!);
                var duration = Cell(columns.GetProperty("duration"), i);
                if (line.GetProperty("duration").ValueKind == JsonValueKind.Null) Assert.Null(duration);
                else Assert.Equal(line.GetProperty("duration").GetDouble(), double.Parse(duration!, System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(line.GetProperty("evidence").GetRawText(), Cell(columns.GetProperty("evidence"), i));
            }
        }
    }

    [Fact]
    public void Files_rotate_by_record_time_and_are_published_on_dispose()
    {
        RequireReaders();
        const long t0 = 1_764_374_399_000_000; // 2025-11-28 23:59:59 UTC
        var sink = new ArrowElementSink(_dir, TimeSpan.FromMinutes(5), rowsPerBatch: 2);
        try
        {
            sink.Write(State(Session, t0, SessionState.OpenConfirm, SessionState.Established, ReasonKind.KeepaliveReceived));
            sink.Write(Simple(t0 + 500_000, "10.0.0.0/24"));
            sink.Write(Simple(t0 + 600_000, "10.0.1.0/24"));
            sink.Write(Simple(t0 + 700_000, "10.0.2.0/24"));
            Assert.Empty(sink.Completed);
            Assert.Equal(["sessions.20251128.2355.arrow.tmp", "updates.20251128.2355.arrow.tmp"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
            sink.Write(Simple(t0 + 1_000_001, "10.1.0.0/24"));   // 00:00:00.000001: the next interval
            sink.Write(Simple(t0 + 999_999, "10.1.1.0/24"));     // a little late: stays in the current file
            Assert.Equal(["updates.20251128.2355.arrow", "sessions.20251128.2355.arrow"], sink.Completed.Select(Path.GetFileName));
            Assert.Equal(["updates.20251129.0000.arrow.tmp"], Directory.GetFiles(_dir, "*.tmp").Select(Path.GetFileName));
            sink.Write(Simple(t0 + 301_000_000, "10.2.0.0/24")); // 00:05:00: a third file; no sessions file without events
        }
        finally
        {
            sink.Dispose();
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.Equal(["sessions.20251128.2355.arrow", "updates.20251128.2355.arrow", "updates.20251129.0000.arrow", "updates.20251129.0005.arrow"],
            Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
        Assert.Throws<ObjectDisposedException>(() => sink.Write(Simple(t0, "10.9.0.0/24")));

        // Each file has its own dictionaries, and its rows in batches of 2.
        var files = Directory.GetFiles(_dir).Order().ToList();
        var read = NodeReaders.Read("arrow-js", files);
        string[] Prefixes(string name) => read[Path.Combine(_dir, name)].GetProperty("columns").GetProperty("prefix").EnumerateArray().Select(e => e.GetString()!).ToArray();
        int[] Batches(string name) => read[Path.Combine(_dir, name)].GetProperty("batches").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"], Prefixes("updates.20251128.2355.arrow"));
        Assert.Equal([2, 1], Batches("updates.20251128.2355.arrow"));
        Assert.Equal(["10.1.0.0/24", "10.1.1.0/24"], Prefixes("updates.20251129.0000.arrow"));
        Assert.Equal(["10.2.0.0/24"], Prefixes("updates.20251129.0005.arrow"));
        Assert.All(files.Where(f => f.Contains("updates")), f =>
            Assert.All(read[f].GetProperty("columns").GetProperty("peer_ip").EnumerateArray(), p => Assert.Equal("192.0.2.2", p.GetString())));
        Assert.Equal(["Established"], read[files[0]].GetProperty("columns").GetProperty("new_state").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void A_restart_within_an_interval_keeps_both_files()
    {
        const long t0 = 1_764_374_400_000_000;
        using (var sink = new ArrowElementSink(_dir, TimeSpan.FromMinutes(5))) sink.Write(Simple(t0, "10.0.0.0/24"));
        using (var sink = new ArrowElementSink(_dir, TimeSpan.FromMinutes(5))) sink.Write(Simple(t0 + 1, "10.0.1.0/24"));
        var names = Directory.GetFiles(_dir).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["updates.20251129.0000.2.arrow", "updates.20251129.0000.arrow"], names);
    }

    [Fact]
    public void A_file_that_reaches_the_size_limit_is_published_and_its_interval_goes_on_in_the_next_part()
    {
        RequireReaders();
        const long t0 = 1_764_374_400_000_000;
        var sink = new ArrowElementSink(_dir, TimeSpan.FromMinutes(5), rowsPerBatch: 10, maxFileBytes: 2_000);
        try
        {
            for (int i = 0; i < 100; i++) sink.Write(Simple(t0 + i, $"10.0.{i}.0/24"));
            Assert.True(sink.Completed.Count >= 2, $"{sink.Completed.Count} files");
        }
        finally
        {
            sink.Dispose();
        }
        var files = Directory.GetFiles(_dir).Order().ToList();
        Assert.DoesNotContain(files, f => f.EndsWith(".tmp"));
        Assert.Contains(Path.Combine(_dir, "updates.20251129.0000.arrow"), files);
        Assert.Contains(Path.Combine(_dir, "updates.20251129.0000.2.arrow"), files);
        // Every part is a whole file, and together they hold every row once, in order.
        var read = NodeReaders.Read("arrow-js", sink.Completed);
        var prefixes = sink.Completed.SelectMany(f => read[f].GetProperty("columns").GetProperty("prefix").EnumerateArray().Select(e => e.GetString())).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"10.0.{i}.0/24"), prefixes);
        Assert.All(sink.Completed.SkipLast(1), f => Assert.True(new FileInfo(f).Length >= 2_000));
    }
}
