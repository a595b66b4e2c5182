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
/// Issue 5, "Replays": the detectors over every corpus update file, checked against what each file
/// holds. Each NOTIFICATION a peer sent is read straight from the file; Hold Timer Expired (4) must be a
/// <c>peer_hold_timer</c> stuck_session of that peer, Send Hold Timer Expired (8) a <c>peer_send_hold_timer</c>,
/// Cease with a shutdown (6/2, 6/4) a voluntary or pre-drain cull naming the peer, and no stuck or cull
/// event may name a peer the file gives no cause for.
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
        var (notifications, silentDrops) = ReadFile(path);
        var events = ReplayEvents(path);
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
            int suppressed = j.GetProperty("evidence").TryGetProperty("suppressed", out var s) ? int.Parse(s.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0;
            events.Add(new Event(type, j.GetProperty("class").GetString(),
                j.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString()!).ToList(), suppressed));
        }
        return events;
    }
}
