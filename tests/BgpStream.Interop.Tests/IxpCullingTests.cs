using BgpStream.Interop.Tests.Ixp;
using BgpStream.Interop.Tests.Speakers;
using Xunit;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// The collector's culling detector (RFC 8327 / BCP 214, DOMAIN.md signatures S1–S3) against real
/// speakers on a peering LAN in network namespaces (<see cref="IxpCullingFixture"/>). Each test finds
/// all four sessions Established and leaves them so.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class IxpCullingTests(IxpCullingFixture ixp, ITestOutputHelper output) : IClassFixture<IxpCullingFixture>
{
    /// <summary>Generous: the slowest speaker (GoBGP, fixed 5 s Idle then 2–4 s retries) is back within ~10 s.</summary>
    private static readonly TimeSpan CullEndTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// S1: the fabric drops TCP/179 between LAN addresses. Every session's Hold Timer expires at the
    /// collector within HoldTime of its last KEEPALIVE (RFC 4271 §6.5, no NOTIFICATION gets through),
    /// so one involuntary cull names all four peers once the window has closed; when the filter goes,
    /// the sessions return and the cull ends.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task Involuntary_culling_by_the_fabric_filter_is_one_cull_of_all_four_sessions()
    {
        await ixp.RestoreAsync();
        await RestoringAfterAsync(async () =>
        {
            output.WriteLine($"fixture start (fabric, collector, four speakers Established): {ixp.StartupTime.TotalSeconds:F1} s ({ixp.StartupDetails})");
            int mark = ixp.Collector.LineCount;
            await ixp.Fabric.BlockBgpAsync();
            var blockedAt = DateTimeOffset.UtcNow;
            // Bound: the last session drops at most HoldTime after the block, the window closes
            // CullWindow after the first down, the collector ticks once a second.
            var bound = TimeSpan.FromSeconds(IxpCullingFixture.HoldTime + IxpCullingFixture.CullWindow + 2);
            var start = await ixp.Collector.WaitForAsync(l => l.Type == "cull_start", mark, bound + TimeSpan.FromSeconds(20),
                "cull_start after the fabric filter", ixp.DescribeAsync);
            var latency = start.ReceivedAt - blockedAt;
            output.WriteLine($"cull_start {latency.TotalSeconds:F1} s after the block: {start}");
            await ExpectAsync(latency <= bound, $"cull_start {latency.TotalSeconds:F1} s after the block, within {bound.TotalSeconds} s", start);
            await ExpectCullAsync(start, "involuntary", ixp.Speakers);
            await ExpectAsync(Evidence(start, "involuntary") == "4", "evidence involuntary = 4", start);

            await ixp.Fabric.UnblockBgpAsync();
            var unblockedAt = DateTimeOffset.UtcNow;
            int unblockMark = ixp.Collector.LineCount;
            // OpenBGPD waits its IdleHoldTime after the Hold Timer expiry before it connects again:
            // 30 s, doubled after each further error, not configurable (INTERVAL_IDLE_HOLD_INITIAL in
            // session.h). `bgpctl neighbor X up` starts the session at once, as an operator would.
            await ixp.OpenBgpd.EnableAsync();
            var end = await ixp.Collector.WaitForAsync(l => l.Type == "cull_end", start.Index, CullEndTimeout,
                "cull_end after the filter was removed", ixp.DescribeAsync);
            output.WriteLine($"cull_end {(end.ReceivedAt - unblockedAt).TotalSeconds:F1} s after the unblock: {end}");
            foreach (var s in ixp.Speakers)
            {
                var up = ixp.Collector.Lines(unblockMark, l => l.Type == "state" && l.Json.GetProperty("new_state").GetString() == "Established"
                    && l.Json.GetProperty("peer_ip").GetString() == s.Options.LocalAddress.ToString()).FirstOrDefault();
                output.WriteLine($"{s.Name} Established again {(up is null ? "?" : $"{(up.ReceivedAt - unblockedAt).TotalSeconds:F1} s")} after the unblock");
            }
            await ExpectCullAsync(end, "involuntary", ixp.Speakers);
            await ExpectAsync(Evidence(end, "ended") == "returned", "evidence ended = returned", end);
            await ExpectOneStartAsync(mark);
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
            await ExpectCullAsync(start, "voluntary", [ixp.Bird, ixp.Frr]);
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
            await ExpectCullAsync(end, "voluntary", [ixp.Bird, ixp.Frr]);
            await ExpectOneStartAsync(mark);
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
            await ExpectCullAsync(start, "pre-drain", [ixp.Frr]);
            await ExpectAsync(PeerEvidence(start, ixp.Frr).Contains($"graceful_shutdown {routes}/{routes} prefixes", StringComparison.Ordinal),
                $"FRR's evidence has graceful_shutdown {routes}/{routes} prefixes", start);

            await ixp.Frr.SetGracefulShutdownAsync(false);
            await ixp.Frr.EnableAsync();
            var end = await ixp.Collector.WaitForAsync(l => l.Type == "cull_end", start.Index, CullEndTimeout,
                "cull_end after re-enabling FRR", ixp.DescribeAsync);
            await ExpectCullAsync(end, "pre-drain", [ixp.Frr]);
            await ExpectOneStartAsync(mark);
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

    private async Task ExpectCullAsync(CollectorLine line, string cls, IReadOnlyList<BgpSpeaker> speakers)
    {
        var json = line.Json;
        await ExpectAsync(json.GetProperty("class").GetString() == cls, $"class {cls}", line);
        // No --lan: the connected subnet of the collector's veth.
        await ExpectAsync(json.GetProperty("lan").GetString() == IxpFabric.Lan4.ToString(), $"lan {IxpFabric.Lan4}", line);
        var expected = speakers.Select(s => $"{s.Options.LocalAddress} AS{s.Options.LocalAs}").Order(StringComparer.Ordinal);
        var actual = json.GetProperty("peers").EnumerateArray()
            .Select(p => $"{p.GetProperty("ip").GetString()} AS{p.GetProperty("asn").GetUInt32()}").Order(StringComparer.Ordinal);
        await ExpectAsync(expected.SequenceEqual(actual), $"peers {string.Join(", ", expected)}", line);
    }

    private async Task ExpectOneStartAsync(int mark)
    {
        var starts = ixp.Collector.Lines(mark, l => l.Type == "cull_start");
        if (starts.Count != 1)
            Assert.Fail($"expected one cull_start, got {starts.Count}:\n{string.Join('\n', starts)}\n{await ixp.DescribeAsync()}");
    }

    private static string Evidence(CollectorLine line, string name) =>
        line.Json.GetProperty("evidence").TryGetProperty(name, out var v) ? v.GetString()! : $"(no evidence \"{name}\" in {line})";

    /// <summary>The evidence entry <c>peer IP ASn</c> of one speaker.</summary>
    private static string PeerEvidence(CollectorLine line, BgpSpeaker speaker) =>
        line.Json.GetProperty("evidence").TryGetProperty($"peer {speaker.Options.LocalAddress} AS{speaker.Options.LocalAs}", out var v)
            ? v.GetString()! : $"(no evidence for {speaker.Name} in {line})";
}
