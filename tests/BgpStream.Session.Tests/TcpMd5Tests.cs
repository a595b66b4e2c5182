using System.Net;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>RFC 2385 through the kernel: both ends sign, or no connection is ever made.</summary>
public sealed class TcpMd5Tests : IAsyncLifetime
{
    private CollectorHarness _harness = null!;

    public Task InitializeAsync()
    {
        _harness = new CollectorHarness([
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.3.1"), RemoteAs = [65031], Md5Password = "s3cret" },
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.3.0/24"), Md5Password = "lan-key" },
        ]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Signed_peer_establishes()
    {
        using var peer = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.3.1"), md5Password: "s3cret");
        await peer.EstablishAsync(65031);
        await _harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Range_key_signs_every_address_of_the_prefix()
    {
        using var peer = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.3.77"), md5Password: "lan-key");
        await peer.EstablishAsync(65077);
        await _harness.WaitForTransitionAsync(t => t.To == SessionState.Established, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_reload_changes_the_listeners_keys()
    {
        // 127.0.3.1's password changes, 127.0.3.0/24 loses its key, 127.0.4.1 gets one.
        _harness.Collector.ReloadPeers([
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.3.1"), RemoteAs = [65031], Md5Password = "n3w" },
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.3.0/24") },
            new PeerConfig { Range = PeerConfig.ParseRange("127.0.4.1"), Md5Password = "added" },
        ]);
        using (var renewed = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.3.1"), md5Password: "n3w"))
            await renewed.EstablishAsync(65031);
        using (var unsigned = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.3.77")))
            await unsigned.EstablishAsync(65077);
        using (var added = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.4.1"), md5Password: "added"))
            await added.EstablishAsync(65041);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var old = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.3.1"), md5Password: "s3cret");
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task Unsigned_or_wrongly_signed_peer_never_connects(string? password)
    {
        // The kernel drops the segments: the handshake never completes, no BGP is spoken.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var peer = await ScriptedPeer.ConnectAsync(_harness.Endpoint, IPAddress.Parse("127.0.3.1"), md5Password: password);
        });
        Assert.Empty(_harness.Transitions());
    }
}
