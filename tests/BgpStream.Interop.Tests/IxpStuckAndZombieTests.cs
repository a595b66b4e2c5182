using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Ixp;
using BgpStream.Interop.Tests.Speakers;
using Xunit;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// Issue 5's stuck-session and zombie-route detectors in the real collector, on a peering LAN in
/// network namespaces (<see cref="IxpDetectionFixture"/>): a peer that stops reading, and a prefix that
/// one of four real speakers keeps after the other three withdrew it.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class IxpStuckAndZombieTests(IxpDetectionFixture ixp, ITestOutputHelper output) : IClassFixture<IxpDetectionFixture>
{
    /// <summary>
    /// RFC 9687 §1: the peer completes the handshake, keeps sending KEEPALIVEs and stops reading. The
    /// collector's KEEPALIVEs (one a second at Hold Time 3 s) fill the peer's minimal receive window
    /// (about 1 KiB: some 55 s), then stay in our send queue. The collector samples the queue
    /// (SIOCOUTQ): a <c>stuck_warning</c> once it has not drained for 3 s, then the Send Hold Timer
    /// (8 s without progress) closes the session with NOTIFICATION 8 and a <c>stuck_session</c>.
    /// The four healthy speakers on the LAN get no such event.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task A_peer_that_stops_reading_gets_a_send_queue_warning_then_the_Send_Hold_Timer()
    {
        await ixp.WaitAllEstablishedAsync();
        using var directory = new TempDirectory("stuck-peer");
        int mark = ixp.Collector.LineCount;
        string peer = ixp.StuckMember.Ipv4.ToString();
        using var stuck = ixp.StartStuckPeer(directory, 65099);
        Task<string> Describe() => Task.FromResult($"--- stuck peer ---\n{stuck.OutputTail}\n{ixp.Collector.Describe()}");
        bool Of(CollectorLine l) => l.Json.GetProperty("peers").EnumerateArray().Any(p => p.GetProperty("ip").GetString() == peer);

        var up = await ixp.Collector.WaitForAsync(l => l.Type == "state" && l.Json.GetProperty("peer_ip").GetString() == peer
            && l.Json.GetProperty("new_state").GetString() == "Established", mark, TimeSpan.FromSeconds(30), "the stuck peer Established", Describe);
        // Window (~55 s at one 19-byte KEEPALIVE a second) + warning (3 s) + Send Hold Time (8 s), with room.
        var warning = await ixp.Collector.WaitForAsync(l => l.Type == "stuck_warning" && Of(l), mark, TimeSpan.FromSeconds(150),
            "stuck_warning for the stuck peer", Describe);
        var expired = await ixp.Collector.WaitForAsync(l => l.Type == "stuck_session" && Of(l), mark, TimeSpan.FromSeconds(60),
            "stuck_session for the stuck peer", Describe);
        var down = ixp.Collector.Lines(mark, l => l.Type == "state" && l.Json.GetProperty("peer_ip").GetString() == peer
            && l.Json.GetProperty("old_state").GetString() == "Established").Single();
        output.WriteLine($"Established → warning {(warning.ReceivedAt - up.ReceivedAt).TotalSeconds:F1} s → Send Hold Timer {(expired.ReceivedAt - warning.ReceivedAt).TotalSeconds:F1} s");
        output.WriteLine(warning.ToString());
        output.WriteLine(expired.ToString());

        Assert.Equal(("send_queue", "warning"), (warning.Json.GetProperty("class").GetString(), warning.Json.GetProperty("severity").GetString()));
        Assert.True(int.Parse(warning.Json.GetProperty("evidence").GetProperty("bytes_queued").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(("send_hold_timer", "critical"), (expired.Json.GetProperty("class").GetString(), expired.Json.GetProperty("severity").GetString()));
        Assert.Equal("send_hold_timer_expired", down.Json.GetProperty("reason").GetString());
        Assert.Equal(8, down.Json.GetProperty("notification").GetProperty("code").GetInt32());
        // The warning came first, and early: the Send Hold Timer fired SendHoldTime after the last progress,
        // the warning SendQueueWarning after it.
        Assert.True(warning.Index < down.Index && down.Index < expired.Index, "warning, then the session down, then stuck_session");
        var lead = expired.ReceivedAt - warning.ReceivedAt;
        Assert.InRange(lead.TotalSeconds, IxpDetectionFixture.SendHoldTime - IxpDetectionFixture.SendQueueWarning - 2.5,
            IxpDetectionFixture.SendHoldTime - IxpDetectionFixture.SendQueueWarning + 2.5);
        // Nothing against the healthy speakers.
        Assert.Empty(ixp.Collector.Lines(mark, l => l.Type.StartsWith("stuck_", StringComparison.Ordinal) && !Of(l)));
        // The peer saw its connection closed.
        await ProcessRunner.WaitUntilAsync(() => Task.FromResult(stuck.OutputTail.Contains("closed by the collector", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), Describe);
    }

    /// <summary>
    /// Fontugne et al.'s zombie (DOMAIN.md): the four speakers announce the same three prefixes; BIRD,
    /// FRR and GoBGP withdraw them, OpenBGPD keeps them. Past the threshold (5 s here, 90 min by
    /// default) each prefix is a <c>zombie_route</c> naming OpenBGPD; its withdrawal clears them.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task A_prefix_one_speaker_keeps_after_the_others_withdrew_it_is_a_zombie_until_it_goes()
    {
        await ixp.WaitAllEstablishedAsync();
        var prefixes = ixp.OpenBgpd.ExpectedExportedRoutes().Select(r => r.Prefix).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(3, prefixes.Count);
        // Every speaker's routes have reached the collector.
        await ProcessRunner.WaitUntilAsync(() => Task.FromResult(ixp.Speakers.All(s => Announced(s).Count == prefixes.Count)),
            TimeSpan.FromSeconds(30), ixp.DescribeAsync, TimeSpan.FromMilliseconds(100));
        int mark = ixp.Collector.LineCount;

        BgpSpeaker[] leaving = [ixp.Bird, ixp.Frr, ixp.Gobgp];
        await Task.WhenAll(leaving.Select(s => s.WithdrawAllAsync()));
        var withdrawnAt = DateTimeOffset.UtcNow;
        await ProcessRunner.WaitUntilAsync(() => Task.FromResult(leaving.All(s => Withdrawn(s, mark).Count == prefixes.Count)),
            TimeSpan.FromSeconds(30), ixp.DescribeAsync, TimeSpan.FromMilliseconds(100));

        string zombie = $"{ixp.OpenBgpd.Options.LocalAddress}";
        await ProcessRunner.WaitUntilAsync(() => Task.FromResult(Events("zombie_route", mark).Count == prefixes.Count),
            TimeSpan.FromSeconds(IxpDetectionFixture.ZombieThreshold + 20), ixp.DescribeAsync, TimeSpan.FromMilliseconds(100));
        var zombies = Events("zombie_route", mark);
        output.WriteLine($"zombie_route {(zombies[^1].ReceivedAt - withdrawnAt).TotalSeconds:F1} s after the withdrawals; {zombies[0]}");
        Assert.Equal(prefixes, zombies.Select(z => z.Json.GetProperty("prefix").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(zombies, z => Assert.Equal([zombie], z.Json.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("ip").GetString())));
        Assert.All(zombies, z => Assert.True(z.ReceivedAt - withdrawnAt >= TimeSpan.FromSeconds(IxpDetectionFixture.ZombieThreshold - 1),
            $"not before the threshold: {z}"));

        int clearMark = ixp.Collector.LineCount;
        await ixp.OpenBgpd.WithdrawAllAsync();
        await ProcessRunner.WaitUntilAsync(() => Task.FromResult(Events("zombie_cleared", clearMark).Count == prefixes.Count),
            TimeSpan.FromSeconds(20), ixp.DescribeAsync, TimeSpan.FromMilliseconds(100));
        var cleared = Events("zombie_cleared", clearMark);
        output.WriteLine(cleared[0].ToString());
        Assert.Equal(prefixes, cleared.Select(z => z.Json.GetProperty("prefix").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(prefixes.Count, Events("zombie_route", mark).Count);
    }

    private List<CollectorLine> Events(string type, int from) => ixp.Collector.Lines(from, l => l.Type == type).ToList();

    private HashSet<string> Announced(BgpSpeaker s) =>
        ixp.Collector.Lines(0, l => l.Type == "A" && l.Json.GetProperty("peer_ip").GetString() == s.Options.LocalAddress.ToString())
            .Select(l => l.Json.GetProperty("prefix").GetString()!).ToHashSet();

    private HashSet<string> Withdrawn(BgpSpeaker s, int from) =>
        ixp.Collector.Lines(from, l => l.Type == "W" && l.Json.GetProperty("peer_ip").GetString() == s.Options.LocalAddress.ToString())
            .Select(l => l.Json.GetProperty("prefix").GetString()!).ToHashSet();
}
