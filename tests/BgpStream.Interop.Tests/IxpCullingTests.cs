using BgpStream.Interop.Tests.Ixp;
using BgpStream.Interop.Tests.Speakers;
using Xunit;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// The collector's culling detector (RFC 8327 / BCP 214, DOMAIN.md signatures S1–S3) against real
/// speakers on a peering LAN in network namespaces (<see cref="IxpCullingFixture"/>): BIRD and FRR over
/// IPv4, GoBGP and OpenBGPD over IPv6. Each test finds all four sessions Established and leaves them so.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class IxpCullingTests(IxpCullingFixture ixp, ITestOutputHelper output) : IClassFixture<IxpCullingFixture>
{
    /// <summary>Generous: the slowest speaker (GoBGP, fixed 5 s Idle then 2–4 s retries) is back within ~10 s.</summary>
    private static readonly TimeSpan CullEndTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// S1: the fabric drops TCP/179 between LAN addresses, both directions, IPv4 and IPv6 (RFC 8327
    /// §3.2). Every session's Hold Timer expires at the collector within HoldTime of its last KEEPALIVE
    /// (RFC 4271 §6.5, no NOTIFICATION gets through): each of the four is a critical
    /// <c>stuck_session</c> of class <c>hold_timer</c>, and each peering LAN has one involuntary cull
    /// naming its two sessions — BIRD and FRR on 192.0.2.0/24, GoBGP and OpenBGPD on
    /// 2001:db8:179::/64 — once the window has closed. When the filter goes, the sessions return and
    /// both culls end.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Involuntary_culling_by_the_fabric_filter_is_one_cull_per_LAN_and_a_hold_timer_event_per_session()
    {
        await ixp.RestoreAsync();
        await RestoringAfterAsync(async () =>
        {
            output.WriteLine($"fixture start (fabric, collector, four speakers Established): {ixp.StartupTime.TotalSeconds:F1} s ({ixp.StartupDetails})");
            var lans = new[] { (Lan: IxpFabric.Lan4, Speakers: new BgpSpeaker[] { ixp.Bird, ixp.Frr }), (Lan: IxpFabric.Lan6, Speakers: new BgpSpeaker[] { ixp.Gobgp, ixp.OpenBgpd }) };
            foreach (var (lan, speakers) in lans)
                Assert.All(speakers, s => Assert.True(lan.Contains(s.Options.LocalAddress), $"{s.Name} peers from {s.Options.LocalAddress}, not on {lan}"));
            int mark = ixp.Collector.LineCount;
            await ixp.Fabric.BlockBgpAsync();
            var blockedAt = DateTimeOffset.UtcNow;
            // Bound: the last session drops at most HoldTime after the block, the window closes
            // CullWindow after the first down, the collector ticks once a second.
            var bound = TimeSpan.FromSeconds(IxpCullingFixture.HoldTime + IxpCullingFixture.CullWindow + 2);
            var starts = new List<CollectorLine>();
            foreach (var (lan, speakers) in lans)
            {
                var start = await ixp.Collector.WaitForAsync(l => l.Type == "cull_start" && Lan(l) == lan.ToString(), mark, bound + TimeSpan.FromSeconds(20),
                    $"cull_start on {lan} after the fabric filter", ixp.DescribeAsync);
                var latency = start.ReceivedAt - blockedAt;
                output.WriteLine($"cull_start on {lan} {latency.TotalSeconds:F1} s after the block: {start}");
                await ExpectAsync(latency <= bound, $"cull_start {latency.TotalSeconds:F1} s after the block, within {bound.TotalSeconds} s", start);
                await ExpectCullAsync(start, "involuntary", speakers, lan);
                await ExpectAsync(Evidence(start, "involuntary") == "2", "evidence involuntary = 2", start);
                starts.Add(start);
            }

            // Our Hold Timer (RFC 4271 §8.2.2 event 10) ended each session: the stuck-session detector
            // reports it from the transition's reason, once per session.
            foreach (var s in ixp.Speakers)
            {
                string ip = s.Options.LocalAddress.ToString();
                var down = await ixp.Collector.WaitForAsync(l => l.Type == "state" && l.Json.GetProperty("peer_ip").GetString() == ip
                        && l.Json.GetProperty("old_state").GetString() == "Established", mark, TimeSpan.FromSeconds(5),
                    $"{s.Name}'s session leaving Established", ixp.DescribeAsync);
                await ExpectAsync(down.Json.GetProperty("reason").GetString() == "hold_timer_expired", $"{s.Name} down by hold_timer_expired", down);
                var stuck = await ixp.Collector.WaitForAsync(l => l.Type == "stuck_session" && PeerIps(l).Contains(ip), mark, TimeSpan.FromSeconds(5),
                    $"stuck_session for {s.Name}", ixp.DescribeAsync);
                output.WriteLine(stuck.ToString());
                await ExpectAsync(stuck.Json.GetProperty("class").GetString() == "hold_timer", "class hold_timer", stuck);
                await ExpectAsync(stuck.Json.GetProperty("severity").GetString() == "critical", "severity critical", stuck);
                await ExpectAsync(Peers(stuck).SequenceEqual([$"{ip} AS{s.Options.LocalAs}"]), $"peers [{ip} AS{s.Options.LocalAs}]", stuck);
                await ExpectAsync(Evidence(stuck, "from_state") == "Established", "evidence from_state = Established", stuck);
                await ExpectAsync(down.Index < stuck.Index, "the state change before the event", stuck);
            }

            await ixp.Fabric.UnblockBgpAsync();
            var unblockedAt = DateTimeOffset.UtcNow;
            int unblockMark = ixp.Collector.LineCount;
            // OpenBGPD waits its IdleHoldTime after the Hold Timer expiry before it connects again:
            // 30 s, doubled after each further error, not configurable (INTERVAL_IDLE_HOLD_INITIAL in
            // session.h). `bgpctl neighbor X up` starts the session at once, as an operator would.
            await ixp.OpenBgpd.EnableAsync();
            for (int i = 0; i < lans.Length; i++)
            {
                var (lan, speakers) = lans[i];
                var end = await ixp.Collector.WaitForAsync(l => l.Type == "cull_end" && Lan(l) == lan.ToString(), starts[i].Index, CullEndTimeout,
                    $"cull_end on {lan} after the filter was removed", ixp.DescribeAsync);
                output.WriteLine($"cull_end on {lan} {(end.ReceivedAt - unblockedAt).TotalSeconds:F1} s after the unblock: {end}");
                await ExpectCullAsync(end, "involuntary", speakers, lan);
                await ExpectAsync(Evidence(end, "ended") == "returned", "evidence ended = returned", end);
            }
            foreach (var s in ixp.Speakers)
            {
                var up = ixp.Collector.Lines(unblockMark, l => l.Type == "state" && l.Json.GetProperty("new_state").GetString() == "Established"
                    && l.Json.GetProperty("peer_ip").GetString() == s.Options.LocalAddress.ToString()).FirstOrDefault();
                output.WriteLine($"{s.Name} Established again {(up is null ? "?" : $"{(up.ReceivedAt - unblockedAt).TotalSeconds:F1} s")} after the unblock");
            }
            await ExpectStartsAsync(mark, IxpFabric.Lan4, IxpFabric.Lan6);
            // Nothing else was stuck: one hold_timer event per session, no other stuck event.
            var stuckEvents = ixp.Collector.Lines(mark, l => l.Type.StartsWith("stuck_", StringComparison.Ordinal));
            if (stuckEvents.Count != ixp.Speakers.Count)
                Assert.Fail($"expected {ixp.Speakers.Count} stuck events, got {stuckEvents.Count}:\n{string.Join('\n', stuckEvents)}\n{await ixp.DescribeAsync()}");
        });
    }

    /// <summary>
    /// S2: BIRD and FRR are shut down by their operators with a Shutdown Communication (Cease 6/2,
    /// RFC 9003): one voluntary cull naming both, with both texts in its evidence; re-enabled, it ends.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Voluntary_shutdowns_of_BIRD_and_FRR_are_one_voluntary_cull_with_their_texts()
    {
        await ixp.RestoreAsync();
        await RestoringAfterAsync(async () =>
        {
            int mark = ixp.Collector.LineCount;
            const string birdText = "IXP maintenance TICKET-5 (BIRD)";
            const string frrText = "IXP maintenance TICKET-5 (FRR)";
            var shutAt = DateTimeOffset.UtcNow;
            await ixp.Bird.ShutdownAsync(birdText);
            await ixp.Frr.ShutdownAsync(frrText);
            var start = await ixp.Collector.WaitForAsync(l => l.Type == "cull_start", mark, TimeSpan.FromSeconds(30),
                "voluntary cull_start", ixp.DescribeAsync);
            output.WriteLine($"cull_start {(start.ReceivedAt - shutAt).TotalSeconds:F1} s after the shutdowns: {start}");
            await ExpectCullAsync(start, "voluntary", [ixp.Bird, ixp.Frr], IxpFabric.Lan4);
            foreach (var (speaker, text) in new[] { ((BgpSpeaker)ixp.Bird, birdText), (ixp.Frr, frrText) })
            {
                string peer = PeerEvidence(start, speaker);
                await ExpectAsync(peer.Contains("Cease 6/2", StringComparison.Ordinal) && peer.Contains($"\"{text}\"", StringComparison.Ordinal),
                    $"{speaker.Name}'s evidence has Cease 6/2 and \"{text}\"", start);
            }

            var enabledAt = DateTimeOffset.UtcNow;
            await ixp.Bird.EnableAsync();
            await ixp.Frr.EnableAsync();
            var end = await ixp.Collector.WaitForAsync(l => l.Type == "cull_end", start.Index, CullEndTimeout,
                "cull_end after re-enabling BIRD and FRR", ixp.DescribeAsync);
            output.WriteLine($"cull_end {(end.ReceivedAt - enabledAt).TotalSeconds:F1} s after the re-enable: {end}");
            await ExpectCullAsync(end, "voluntary", [ixp.Bird, ixp.Frr], IxpFabric.Lan4);
            await ExpectStartsAsync(mark, IxpFabric.Lan4);
        });
    }

    /// <summary>
    /// S3: <c>bgp graceful-shutdown</c> makes FRR re-announce its table with GRACEFUL_SHUTDOWN
    /// 65535:0 (RFC 8326 §5); the shutdown that follows is a pre-drain cull.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task FRR_draining_with_graceful_shutdown_before_its_shutdown_is_a_pre_drain_cull()
    {
        await ixp.RestoreAsync();
        await RestoringAfterAsync(async () =>
        {
            int mark = ixp.Collector.LineCount;
            string frr = ixp.Frr.Options.LocalAddress.ToString();
            int routes = ixp.Frr.ExpectedExportedRoutes().Count;
            var drainAt = DateTimeOffset.UtcNow;
            await ixp.Frr.SetGracefulShutdownAsync(true);
            await Helpers.ProcessRunner.WaitUntilAsync(() => Task.FromResult(
                    ixp.Collector.Lines(mark, l => l.Type == "A" && l.Json.GetProperty("peer_ip").GetString() == frr
                            && l.Json.GetProperty("communities").EnumerateArray().Any(c => c.GetString() == "65535:0"))
                        .Select(l => l.Json.GetProperty("prefix").GetString()).Distinct().Count() == routes),
                TimeSpan.FromSeconds(30), ixp.DescribeAsync, TimeSpan.FromMilliseconds(100));

            output.WriteLine($"all {routes} routes with 65535:0 {(DateTimeOffset.UtcNow - drainAt).TotalSeconds:F1} s after bgp graceful-shutdown");
            var shutAt = DateTimeOffset.UtcNow;
            await ixp.Frr.ShutdownAsync("draining for maintenance TICKET-6");
            var start = await ixp.Collector.WaitForAsync(l => l.Type == "cull_start", mark, TimeSpan.FromSeconds(30),
                "pre-drain cull_start", ixp.DescribeAsync);
            output.WriteLine($"cull_start {(start.ReceivedAt - shutAt).TotalSeconds:F1} s after the shutdown: {start}");
            await ExpectCullAsync(start, "pre-drain", [ixp.Frr], IxpFabric.Lan4);
            await ExpectAsync(PeerEvidence(start, ixp.Frr).Contains($"graceful_shutdown {routes}/{routes} prefixes", StringComparison.Ordinal),
                $"FRR's evidence has graceful_shutdown {routes}/{routes} prefixes", start);

            await ixp.Frr.SetGracefulShutdownAsync(false);
            await ixp.Frr.EnableAsync();
            var end = await ixp.Collector.WaitForAsync(l => l.Type == "cull_end", start.Index, CullEndTimeout,
                "cull_end after re-enabling FRR", ixp.DescribeAsync);
            await ExpectCullAsync(end, "pre-drain", [ixp.Frr], IxpFabric.Lan4);
            await ExpectStartsAsync(mark, IxpFabric.Lan4);
        });
    }

    /// <summary>Runs a test body, then puts the LAN back; a failed restore does not hide the body's failure.</summary>
    private async Task RestoringAfterAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch
        {
            try { await ixp.RestoreAsync(); }
            catch (Exception ex) { output.WriteLine($"restoring the LAN after the failure failed too: {ex}"); }
            throw;
        }
        await ixp.RestoreAsync();
    }

    /// <summary>Fails with the event, the speakers' state and the collector's log.</summary>
    private async Task ExpectAsync(bool ok, string what, CollectorLine line)
    {
        if (!ok) Assert.Fail($"expected {what}:\n{line}\n{await ixp.DescribeAsync()}");
    }

    private async Task ExpectCullAsync(CollectorLine line, string cls, IReadOnlyList<BgpSpeaker> speakers, System.Net.IPNetwork lan)
    {
        var json = line.Json;
        await ExpectAsync(json.GetProperty("class").GetString() == cls, $"class {cls}", line);
        // No --lan: the connected subnet of the collector's veth for the session's family.
        await ExpectAsync(Lan(line) == lan.ToString(), $"lan {lan}", line);
        var expected = speakers.Select(s => $"{s.Options.LocalAddress} AS{s.Options.LocalAs}").Order(StringComparer.Ordinal);
        await ExpectAsync(expected.SequenceEqual(Peers(line).Order(StringComparer.Ordinal)), $"peers {string.Join(", ", expected)}", line);
    }

    /// <summary>Exactly one <c>cull_start</c> since <paramref name="mark"/> on each of <paramref name="lans"/>, none elsewhere.</summary>
    private async Task ExpectStartsAsync(int mark, params System.Net.IPNetwork[] lans)
    {
        var starts = ixp.Collector.Lines(mark, l => l.Type == "cull_start");
        var expected = lans.Select(l => l.ToString()).Order(StringComparer.Ordinal);
        if (!expected.SequenceEqual(starts.Select(Lan).Order(StringComparer.Ordinal)))
            Assert.Fail($"expected one cull_start on each of {string.Join(", ", expected)}, got {starts.Count}:\n{string.Join('\n', starts)}\n{await ixp.DescribeAsync()}");
    }

    private static string? Lan(CollectorLine line) => line.Json.GetProperty("lan").GetString();

    /// <summary>The event's peers as "IP ASn".</summary>
    private static IEnumerable<string> Peers(CollectorLine line) =>
        line.Json.GetProperty("peers").EnumerateArray().Select(p => $"{p.GetProperty("ip").GetString()} AS{p.GetProperty("asn").GetUInt32()}");

    private static IEnumerable<string?> PeerIps(CollectorLine line) =>
        line.Json.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString());

    private static string Evidence(CollectorLine line, string name) =>
        line.Json.GetProperty("evidence").TryGetProperty(name, out var v) ? v.GetString()! : $"(no evidence \"{name}\" in {line})";

    /// <summary>The evidence entry <c>peer IP ASn</c> of one speaker.</summary>
    private static string PeerEvidence(CollectorLine line, BgpSpeaker speaker) =>
        line.Json.GetProperty("evidence").TryGetProperty($"peer {speaker.Options.LocalAddress} AS{speaker.Options.LocalAs}", out var v)
            ? v.GetString()! : $"(no evidence for {speaker.Name} in {line})";
}
