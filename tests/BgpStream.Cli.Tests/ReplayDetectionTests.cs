using System.Text;
using System.Text.Json;
using BgpStream.Bgp;
using BgpStream.Cli;
using BgpStream.Detection.Culling;
using BgpStream.Detection.Stuck;
using BgpStream.Detection.Zombies;
using BgpStream.Mrt;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Replay;
using BgpStream.Pipeline.Staging;
using BgpStream.TestSupport;
using Xunit.Abstractions;

namespace BgpStream.Cli.Tests;

/// <summary>
/// Issue 5, "Replays": the detectors over every corpus update file, and over a file written at test time
/// with a voluntary cull, checked against what each file holds. Each NOTIFICATION a peer sent is read
/// straight from the file; Hold Timer Expired (4) must be a <c>peer_hold_timer</c> stuck_session of that
/// peer, Send Hold Timer Expired (8) a <c>peer_send_hold_timer</c>, Cease with a shutdown (6/2, 6/4) a
/// voluntary or pre-drain cull naming the peer, and no stuck or cull event may name a peer the file gives
/// no cause for. The inferred <c>hold_timer</c> events (Stuck/README.md, "Replays") are checked against
/// the sessions bgpdump's own lines show dropping from Established after a Hold Time of silence.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ReplayDetectionTests(ITestOutputHelper output)
{
    public static TheoryData<string> UpdateFiles() =>
        [.. Corpus.MrtFiles().Where(f => Path.GetFileName(f).StartsWith("updates", StringComparison.Ordinal))];

    [Theory]
    [MemberData(nameof(UpdateFiles))]
    public void Events_match_the_NOTIFICATIONs_and_session_drops_in_the_file(string file)
    {
        var path = Corpus.PathOf(file);
        CheckEvents(file, path, ReplayEvents(path));
    }

    /// <summary>
    /// RFC 8327 §3.1 voluntary culling in a replay: two peers of 192.0.2.0/24 send Cease /
    /// Administrative Shutdown (6/2) with RFC 9003 Shutdown Communications and come back two minutes
    /// later; a third, on another LAN, falls silent for 110 s and its session drops with no NOTIFICATION
    /// (an inferred Hold Timer expiry). <c>bgpstream replay</c> must report one voluntary cull naming
    /// both peers with their texts, its end, and the third peer's <c>hold_timer</c> — and the whole
    /// check of the corpus files must hold for this file too.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task A_file_with_Cease_shutdowns_gives_a_voluntary_cull_with_the_texts_and_its_end()
    {
        var t0 = SyntheticMrt.At(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
        const long s = 1_000_000;
        SyntheticMrt.Peer a = new(System.Net.IPAddress.Parse("192.0.2.11"), 64511, System.Net.IPAddress.Parse("192.0.2.1")),
            b = new(System.Net.IPAddress.Parse("192.0.2.12"), 64512, System.Net.IPAddress.Parse("192.0.2.1")),
            c = new(System.Net.IPAddress.Parse("198.51.100.13"), 64513, System.Net.IPAddress.Parse("198.51.100.1"));
        const string textA = "maintenance TICKET-42, see https://example.net/m/42 — back in 2 min";
        const string textB = "IXP port move (B)";
        var mrt = new SyntheticMrt();
        foreach (var (p, i) in new[] { (a, 11), (b, 12), (c, 13) })
        {
            mrt.Establish(t0, p);
            mrt.Announce(t0 + s, p, IpPrefix.Parse($"10.{i}.0.0/16"));
        }
        mrt.Keepalives(a, t0 + 30 * s, t0 + 270 * s);
        mrt.Keepalives(b, t0 + 30 * s, t0 + 270 * s);
        mrt.Keepalives(c, t0 + 30 * s, t0 + 180 * s);
        mrt.Drop(t0 + 290 * s, c);                 // 110 s after its last KEEPALIVE, Hold Time 90 s
        mrt.Shutdown(t0 + 300 * s, a, textA);
        mrt.Shutdown(t0 + 301 * s, b, textB);
        foreach (var p in new[] { a, b, c })
        {
            mrt.Establish(t0 + 420 * s, p);
            mrt.Keepalive(t0 + 450 * s, p);
        }
        var dir = Directory.CreateTempSubdirectory("bgpstream-replay-voluntary-");
        try
        {
            var path = Path.Combine(dir.FullName, "updates.voluntary.mrt");
            mrt.WriteTo(path);
            var json = await SyntheticMrt.ReplayEventsAsync(path);
            foreach (var e in json) output.WriteLine(e.GetRawText());

            var start = Assert.Single(json, e => e.GetProperty("type").GetString() == "cull_start");
            Assert.Equal(("voluntary", "192.0.2.0/24", "raised"),
                (start.GetProperty("class").GetString(), start.GetProperty("lan").GetString(), start.GetProperty("state").GetString()));
            Assert.Equal([$"{a.Ip} {a.Asn}", $"{b.Ip} {b.Asn}"], PeersOf(start));
            foreach (var (p, text) in new[] { (a, textA), (b, textB) })
            {
                string peer = start.GetProperty("evidence").GetProperty($"peer {p.Ip} AS{p.Asn}").GetString()!;
                Assert.Contains("Cease 6/2", peer, StringComparison.Ordinal);
                Assert.Contains($"\"{text}\"", peer, StringComparison.Ordinal);
            }
            var end = Assert.Single(json, e => e.GetProperty("type").GetString() == "cull_end");
            Assert.Equal(("voluntary", "192.0.2.0/24", "returned"),
                (end.GetProperty("class").GetString(), end.GetProperty("lan").GetString(), end.GetProperty("evidence").GetProperty("ended").GetString()));
            Assert.Equal(PeersOf(start), PeersOf(end));
            Assert.Equal(120.0, end.GetProperty("duration").GetDouble()); // first down 300 s, both back at 420 s

            var stuck = Assert.Single(json, e => e.GetProperty("type").GetString()!.StartsWith("stuck_", StringComparison.Ordinal));
            Assert.Equal(("stuck_session", "hold_timer"), (stuck.GetProperty("type").GetString(), stuck.GetProperty("class").GetString()));
            Assert.Equal([$"{c.Ip} {c.Asn}"], PeersOf(stuck));
            Assert.True(stuck.GetProperty("evidence").TryGetProperty("inferred", out _), stuck.GetRawText());

            CheckEvents("updates.voluntary.mrt", path, json.Select(Parse).ToList());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static List<string> PeersOf(JsonElement e) =>
        [.. e.GetProperty("peers").EnumerateArray().Select(p => $"{p.GetProperty("ip").GetString()} {p.GetProperty("asn").GetUInt32()}").Order(StringComparer.Ordinal)];

    private void CheckEvents(string file, string path, List<Event> events)
    {
        var (notifications, silentDrops) = ReadFile(path);
        output.WriteLine($"{file}: NOTIFICATIONs {string.Join(", ", notifications.GroupBy(n => (n.Code, n.Subcode)).Select(g => $"{g.Key.Code}/{g.Key.Subcode}×{g.Count()}"))}; " +
            $"events {string.Join(", ", events.GroupBy(e => $"{e.Type}/{e.Class}").Select(g => $"{g.Key}×{g.Count()}"))}");

        // Every peer that sent 4 (or 8) has its event; every such event has its NOTIFICATION. A peer that
        // sends several within the rate limit gets one event counting the rest as suppressed.
        foreach (var (code, cls) in new[] { (4, StuckSessionDetector.PeerHoldTimerClass), (8, StuckSessionDetector.PeerSendHoldTimerClass) })
        {
            var sent = notifications.Where(n => n.Code == code).ToList();
            var reported = events.Where(e => e.Type == "stuck_session" && e.Class == cls).ToList();
            Assert.Equal(sent.Select(n => n.Peer).Distinct().Order(), reported.Select(e => e.Peers.Single()).Distinct().Order());
            Assert.Equal(sent.Count, reported.Sum(e => 1 + e.Suppressed));
        }
        // Voluntary culling is announced by the NOTIFICATION itself (RFC 8327 §3.1, RFC 9003).
        var shutdowns = notifications.Where(n => n.Code == 6 && n.Subcode is 2 or 4).Select(n => n.Peer).Distinct().Order().ToList();
        var voluntary = events.Where(e => e.Type == "cull_start" && e.Class is "voluntary" or "pre-drain").SelectMany(e => e.Peers).Distinct().Order().ToList();
        Assert.Equal(shutdowns, voluntary);
        // Involuntary culls: several sessions, each of which the file shows going down with no NOTIFICATION from the peer.
        foreach (var cull in events.Where(e => e.Type == "cull_start" && e.Class == "involuntary"))
        {
            Assert.True(cull.Peers.Count >= new CullingOptions().InvoluntaryMinSessions, $"{cull}");
            Assert.All(cull.Peers, p => Assert.Contains(p, silentDrops));
        }
        // Every cull that starts ends within the file or is still open at its end, never twice.
        Assert.True(events.Count(e => e.Type == "cull_end") <= events.Count(e => e.Type == "cull_start"));
        // A replay has no send-queue samples: no warnings from them.
        Assert.DoesNotContain(events, e => e.Type == "stuck_warning");
        // Our Hold Timer, inferred: every Established session that bgpdump shows dropping after a Hold
        // Time of silence has its event (or is counted in one's suppressed), and no other has one.
        var inferred = InferredHoldTimerDrops(path);
        var holdTimer = events.Where(e => e.Type == "stuck_session" && e.Class == StuckSessionDetector.HoldTimerClass).ToList();
        output.WriteLine($"{file}: silent drops after the Hold Time (bgpdump) {inferred.Count}: {string.Join(", ", inferred.Distinct())}");
        Assert.Equal(inferred.Distinct().Order(StringComparer.Ordinal), holdTimer.Select(e => e.Peers.Single()).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(inferred.Count, holdTimer.Sum(e => 1 + e.Suppressed));
    }

    /// <summary>
    /// The replay rule of Stuck/README.md ("Replays") written again over bgpdump's verbose lines (its own
    /// decoder, its KEEPALIVE and OPEN lines, which <c>-m</c> leaves out): per peer (address, AS), a
    /// STATE change from Established, on a session seen Established (a state change to it, or an UPDATE
    /// or KEEPALIVE), with no NOTIFICATION 4 or 8 from the peer since, after at least the Hold Time less
    /// 1 s of silence — the Hold Time the smaller of the peer's OPEN and our 90 s, 90 s when no OPEN was
    /// seen, none when 0. A change to Idle ends the session's state. Records of the old MRT type BGP
    /// (5), which replay skips, are skipped.
    /// </summary>
    private static List<string> InferredHoldTimerDrops(string path)
    {
        const long localHoldMicros = 90_000_000;
        var sessions = new Dictionary<string, Session>();
        var drops = new List<string>();
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/bgpdump", [path])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = System.Diagnostics.Process.Start(psi)!;
        _ = process.StandardError.ReadToEndAsync();
        long time = 0;
        string type = "", peer = "";
        string? state = null;
        int? hold = null, code = null;
        void Block()
        {
            if (peer.Length == 0 || !(type.StartsWith("BGP4MP/", StringComparison.Ordinal) || type.StartsWith("BGP4MP_ET/", StringComparison.Ordinal))) return;
            if (type.EndsWith("/STATE_CHANGE", StringComparison.Ordinal) && state is not null)
            {
                var parts = state.Split('/');
                sessions.TryGetValue(peer, out var s);
                if (parts[1] == "Established")
                {
                    s ??= sessions[peer] = new Session();
                    s.Established = true;
                    s.PeerTimerNotification = false;
                    return;
                }
                if (s is not null && parts[0] == "Established" && s.Established && !s.PeerTimerNotification && s.LastReceived is long last)
                {
                    long holdMicros = s.PeerHold is int h ? Math.Min(h * 1_000_000L, localHoldMicros) : localHoldMicros;
                    if (holdMicros > 0 && time - last >= holdMicros - 1_000_000) drops.Add(peer.Split(' ')[0]);
                }
                if (parts[1] == "Idle") sessions.Remove(peer);
                else if (s is not null) s.Established = false;
                return;
            }
            if (!type.Contains("/MESSAGE/", StringComparison.Ordinal)) return;
            if (!sessions.TryGetValue(peer, out var m)) sessions[peer] = m = new Session();
            m.LastReceived = time;
            switch (type[(type.LastIndexOf('/') + 1)..])
            {
                case "Open": m.PeerHold = hold; break;
                case "Update" or "Keepalive": m.Established = true; break;
                case "Notify" when code is 4 or 8: m.PeerTimerNotification = true; break;
            }
        }
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith("TIME: ", StringComparison.Ordinal))
            {
                Block();
                (type, peer, state, hold, code) = ("", "", null, null, null);
                var text = line[6..];
                var t = DateTimeOffset.ParseExact(text, text.Contains('.') ? "MM/dd/yy HH:mm:ss.ffffff" : "MM/dd/yy HH:mm:ss",
                    System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
                time = t.ToUnixTimeMilliseconds() * 1000 + t.Ticks / 10 % 1000;
            }
            else if (line.StartsWith("TYPE: ", StringComparison.Ordinal)) type = line[6..];
            // "FROM: ip ASn" (messages), "PEER: ip ASn" (state changes); "N/A" when bgpdump has no address.
            else if ((line.StartsWith("FROM: ", StringComparison.Ordinal) || line.StartsWith("PEER: ", StringComparison.Ordinal)) && !line.Contains("N/A", StringComparison.Ordinal))
                peer = line[6..];
            else if (line.StartsWith("STATE: ", StringComparison.Ordinal)) state = line[7..];
            else if (line.StartsWith("HOLD_TIME: ", StringComparison.Ordinal)) hold = int.Parse(line[11..], System.Globalization.CultureInfo.InvariantCulture);
            else if (line.TrimStart().StartsWith("ERROR CODE", StringComparison.Ordinal))
                code = int.Parse(line[(line.IndexOf(':') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        Block();
        process.WaitForExit();
        return drops;
    }

    private sealed class Session
    {
        public bool Established;
        public bool PeerTimerNotification;
        public long? LastReceived;
        public int? PeerHold;
    }

    private sealed record Event(string Type, string? Class, IReadOnlyList<string> Peers, int Suppressed)
    {
        public override string ToString() => $"{Type}/{Class} [{string.Join(", ", Peers)}]";
    }

    /// <summary>
    /// The NOTIFICATIONs peers sent (MrtReplay leaves out the collector's own, the *_LOCAL records), and the
    /// peers whose session left Established with no NOTIFICATION from them in the 5 s before.
    /// </summary>
    private static (List<(string Peer, byte Code, byte Subcode)>, HashSet<string>) ReadFile(string path)
    {
        var found = new List<(string, byte, byte)>();
        var lastNotification = new Dictionary<string, long>();
        var silent = new HashSet<string>();
        using var reader = MrtReader.Open(path);
        var records = new MrtReplay().Open(reader);
        while (records.TryRead(out var record))
        {
            string peer = record.Session.PeerAddress.ToString();
            if (record.IsMessage && !record.IsRibEntry && record.Length >= BgpConstants.HeaderLength + 2 && record.MessageType == BgpMessageType.Notification)
            {
                found.Add((peer, record.Message[19], record.Message[20]));
                lastNotification[peer] = record.TimestampMicros;
            }
            else if (!record.IsMessage && record.Transition.From == BgpStream.Session.SessionState.Established
                && !(lastNotification.TryGetValue(peer, out var at) && record.TimestampMicros - at <= 5_000_000))
            {
                silent.Add(peer);
            }
            record.Release();
        }
        return (found, silent);
    }

    private static Event Parse(JsonElement j)
    {
        int suppressed = j.GetProperty("evidence").TryGetProperty("suppressed", out var s) ? int.Parse(s.GetString()!.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new Event(j.GetProperty("type").GetString()!, j.GetProperty("class").GetString(),
            j.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()!).ToList(), suppressed);
    }

    private static List<Event> ReplayEvents(string path)
    {
        using var stdout = new MemoryStream();
        var sink = new JsonLinesStreamSink(stdout);
        var runner = new ReplayRunner(TextWriter.Null)
        {
            Pipeline = new PipelineOptions { Detectors = [new StuckSessionDetector(), new ZombieDetector(), new CullingDetector()] },
        };
        runner.Run([path], [sink]);
        sink.Dispose();
        var events = new List<Event>();
        foreach (var line in Encoding.UTF8.GetString(stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var j = doc.RootElement;
            var type = j.GetProperty("type").GetString()!;
            if (!type.StartsWith("cull_", StringComparison.Ordinal) && !type.StartsWith("stuck_", StringComparison.Ordinal) && !type.StartsWith("zombie_", StringComparison.Ordinal))
                continue;
            events.Add(Parse(j));
        }
        return events;
    }
}
