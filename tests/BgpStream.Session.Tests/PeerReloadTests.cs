using System.Net;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>
/// Issue 6: reloading the peer list keeps unchanged sessions up; a removed peer's session ends with
/// Cease / Peer De-configured, a changed one's with Cease / Other Configuration Change (RFC 4486 §4);
/// new entries admit new peers at once.
/// </summary>
public sealed class PeerReloadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Kept = IPAddress.Parse("127.0.0.21");
    private static readonly IPAddress Removed = IPAddress.Parse("127.0.0.22");
    private static readonly IPAddress Changed = IPAddress.Parse("127.0.0.23");
    private static readonly IPAddress Added = IPAddress.Parse("127.0.0.24");

    [Fact]
    public async Task Unchanged_sessions_stay_up_removed_and_changed_ones_end_with_their_Cease_and_new_peers_are_admitted()
    {
        await using var harness = new CollectorHarness([
            PeerConfig.Parse("127.0.0.21=65021"),
            PeerConfig.Parse("127.0.0.22=65022"),
            PeerConfig.Parse("127.0.0.23=65023"),
        ]);
        using var kept = await ScriptedPeer.ConnectAsync(harness.Endpoint, Kept);
        using var removed = await ScriptedPeer.ConnectAsync(harness.Endpoint, Removed);
        using var changed = await ScriptedPeer.ConnectAsync(harness.Endpoint, Changed);
        await kept.EstablishAsync(65021);
        await removed.EstablishAsync(65022);
        await changed.EstablishAsync(65023);
        foreach (var peer in new[] { Kept, Removed, Changed })
            await harness.WaitForTransitionAsync(t => t.To == SessionState.Established, Timeout, peer);

        var result = harness.Collector.ReloadPeers([
            // The same settings in a new object, with only the description changed: no reset.
            PeerConfig.Parse("127.0.0.21=65021") with { Description = "renamed" },
            PeerConfig.Parse("127.0.0.23=65023") with { MaxPrefixes = 1000 },
            PeerConfig.Parse("127.0.0.24=65024"),
        ]);

        Assert.Equal(new PeerReloadResult(3, 1, 1, 1), result);
        Assert.Equal((NotificationCodes.Cease, NotificationCodes.CeaseSubcode.PeerDeconfigured), await NotificationAsync(removed));
        Assert.Equal((NotificationCodes.Cease, NotificationCodes.CeaseSubcode.OtherConfigurationChange), await NotificationAsync(changed));
        await harness.WaitForTransitionAsync(t => t.From == SessionState.Established, Timeout, Removed);
        await harness.WaitForTransitionAsync(t => t.From == SessionState.Established, Timeout, Changed);

        // The changed peer comes back under its new entry; the new peer is admitted; the removed one is refused.
        using var again = await ScriptedPeer.ConnectAsync(harness.Endpoint, Changed);
        await again.EstablishAsync(65023);
        using var added = await ScriptedPeer.ConnectAsync(harness.Endpoint, Added);
        await added.EstablishAsync(65024);
        long refused = harness.Collector.Refused;
        try
        {
            using var gone = await ScriptedPeer.ConnectAsync(harness.Endpoint, Removed);
            Assert.Null(await gone.ReceiveAsync(TimeSpan.FromSeconds(5)));
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
        }
        for (int i = 0; i < 100 && harness.Collector.Refused == refused; i++) await Task.Delay(20);
        Assert.Equal(refused + 1, harness.Collector.Refused);

        // The kept session never left Established, and still works.
        kept.SendKeepalive();
        await Task.Delay(200);
        Assert.DoesNotContain(harness.Transitions(Kept), t => t.From == SessionState.Established);
        Assert.Contains(harness.Collector.Sessions, s => s.PeerAddress.Equals(Kept) && s.State == SessionState.Established);
    }

    [Fact]
    public async Task An_invalid_list_changes_nothing()
    {
        await using var harness = new CollectorHarness([PeerConfig.Parse("127.0.0.21=65021")]);
        using var kept = await ScriptedPeer.ConnectAsync(harness.Endpoint, Kept);
        await kept.EstablishAsync(65021);
        await harness.WaitForTransitionAsync(t => t.To == SessionState.Established, Timeout, Kept);
        Assert.Throws<ArgumentException>(() => harness.Collector.ReloadPeers([new PeerConfig { Range = PeerConfig.ParseRange("127.0.9.0/24"), Active = true }]));
        await Task.Delay(200);
        Assert.DoesNotContain(harness.Transitions(Kept), t => t.From == SessionState.Established);
    }

    /// <summary>The NOTIFICATION the peer receives next (KEEPALIVEs skipped).</summary>
    private static async Task<(byte Code, byte Subcode)> NotificationAsync(ScriptedPeer peer)
    {
        var message = await peer.ReceiveAsync(BgpMessageType.Notification, Timeout);
        Assert.NotNull(message);
        return (message![19], message[20]);
    }
}
