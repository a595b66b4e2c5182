using System.Runtime.InteropServices;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Ixp;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;
using Xunit;
using Xunit.Abstractions;

namespace BgpStream.Interop.Tests;

/// <summary>
/// Issue 6: the peer list reloads without dropping unchanged sessions. <c>bgpstream collect --config</c>
/// with two BIRD peers on a LAN in namespaces; the file loses one peer and SIGHUP reloads it: that
/// session ends with Cease / Peer De-configured, the other never leaves Established. Putting the peer
/// back in the file (no signal) admits it again.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed partial class ConfigReloadTests(ITestOutputHelper output)
{
    private const int SIGHUP = 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [Fact(Timeout = 240_000)]
    public async Task SIGHUP_and_file_changes_reload_the_peers_and_keep_unchanged_sessions_up()
    {
        await using var fabric = await IxpFabric.CreateAsync(["collector", "kept", "removed"]);
        using var directory = new TempDirectory("reload");
        var c = fabric["collector"];
        var kept = fabric["kept"];
        var removed = fabric["removed"];
        string config = directory.File("collector.yaml");
        string Yaml(bool withRemoved) => $"""
            asn: 65000
            router_id: 192.0.2.1
            listen: ["{c.Ipv4}:179"]
            hold_time: 9
            peers:
              - address: {kept.Ipv4}
                remote_as: 65002
                description: stays
            """ + (withRemoved ? $"""

              - address: {removed.Ipv4}
                remote_as: 65003
            """ : "") + "\n";
        File.WriteAllText(config, Yaml(withRemoved: true));
        using var collector = CollectorProcess.Start(c.Namespace, ["--config", config, "--stdout"]);
        await collector.WaitForLogAsync($"listening on {c.Ipv4}:179", TimeSpan.FromSeconds(30));
        SpeakerOptions Options(IxpMember m, uint asn) => new()
        {
            LocalAddress = m.Ipv4, LocalAs = asn, CollectorAddress = c.Ipv4, HoldTime = 9, Namespace = m.Namespace, ConnectRetry = 2,
            Routes = RouteSet.Generate((int)asn, 3, 1), Ipv6NextHop = m.Ipv6,
        };
        await using var keptBird = new BirdSpeaker(Options(kept, 65002));
        await using var removedBird = new BirdSpeaker(Options(removed, 65003));
        await Task.WhenAll(keptBird.StartAsync(), removedBird.StartAsync());
        Task<string> Describe() => Task.FromResult(collector.Describe());
        bool State(CollectorLine l, IxpMember m, string key, string value) =>
            l.Type == "state" && l.Json.GetProperty("peer_ip").GetString() == m.Ipv4.ToString() && l.Json.GetProperty(key).GetString() == value;
        await collector.WaitForAsync(l => State(l, kept, "new_state", "Established"), 0, TimeSpan.FromSeconds(60), "kept Established", Describe);
        await collector.WaitForAsync(l => State(l, removed, "new_state", "Established"), 0, TimeSpan.FromSeconds(60), "removed Established", Describe);
        int mark = collector.LineCount;

        // The file without the second peer; SIGHUP.
        File.WriteAllText(config, Yaml(withRemoved: false));
        Assert.Equal(0, Kill(collector.ProcessGroupId, SIGHUP));
        var down = await collector.WaitForAsync(l => State(l, removed, "old_state", "Established"), mark, TimeSpan.FromSeconds(20),
            "the removed peer's session down", Describe);
        output.WriteLine(down.ToString());
        var notification = down.Json.GetProperty("notification");
        Assert.Equal(("sent", 6, 3), (notification.GetProperty("direction").GetString(), notification.GetProperty("code").GetInt32(), notification.GetProperty("subcode").GetInt32()));
        await collector.WaitForLogAsync("sessions kept 1, de-configured 1", TimeSpan.FromSeconds(10));
        await ProcessRunner.WaitUntilAsync(async () => (await removedBird.DescribeAsync()).Contains("de-configured", StringComparison.OrdinalIgnoreCase),
            TimeSpan.FromSeconds(10), removedBird.DescribeAsync);

        // The removed peer keeps trying and is refused; the file gets it back (no signal): admitted again.
        await collector.WaitForLogAsync($"refused connection from {removed.Ipv4}:", TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(collector.Lines(mark), l => State(l, removed, "new_state", "Established"));
        int back = collector.LineCount;
        File.WriteAllText(config, Yaml(withRemoved: true));
        await collector.WaitForAsync(l => State(l, removed, "new_state", "Established"), back, TimeSpan.FromSeconds(60),
            "the peer back in the file Established again", Describe);

        // The kept session never left Established, and BIRD agrees.
        Assert.DoesNotContain(collector.Lines(0), l => State(l, kept, "old_state", "Established"));
        Assert.True(await keptBird.IsEstablishedAsync());
        Assert.False(collector.HasExited);
    }
}
