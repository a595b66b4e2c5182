using System.Net;
using BgpStream.Cli;

namespace BgpStream.Cli.Tests;

public sealed class CollectorConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "collector.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Full_configuration_is_read()
    {
        var path = Write("""
            asn: 65000
            router_id: 192.0.2.1
            listen: ["127.0.0.1:1179", "[::1]:1179"]
            hold_time: 30
            send_hold_time: 600
            max_sessions: 100
            peers:
              - address: 192.0.2.10
                remote_as: 65010
                md5_password: s3cret
                hold_time: 9
                max_prefixes: 1000
                description: member one
                families: [ipv4-unicast, ipv6-unicast, ipv4-vpn]
                delay_open: 5
              - range: 192.0.2.0/24
                remote_as: [65020, 1.10]
              - range: 2001:db8::/64
                remote_as: any
            """);
        var c = CollectorConfigFile.Load(path);
        Assert.Equal(65000u, c.Asn);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), c.RouterId);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:1179"), IPEndPoint.Parse("[::1]:1179")], c.Listen);
        Assert.Equal(TimeSpan.FromSeconds(30), c.HoldTime);
        Assert.Equal(TimeSpan.FromSeconds(600), c.SendHoldTime);
        Assert.Equal(3, c.Peers.Count);
        var one = c.Peers[0];
        Assert.True(one.IsSingleAddress);
        Assert.Equal([65010u], one.RemoteAs);
        Assert.Equal("s3cret", one.Md5Password);
        Assert.Equal(1000, one.MaxPrefixes);
        Assert.Equal([(BgpStream.Bgp.Afi.IPv4, BgpStream.Bgp.Safi.Unicast), (BgpStream.Bgp.Afi.IPv6, BgpStream.Bgp.Safi.Unicast), (BgpStream.Bgp.Afi.IPv4, BgpStream.Bgp.Safi.MplsVpn)], one.Families);
        Assert.Equal(TimeSpan.FromSeconds(5), one.DelayOpen);
        Assert.Null(c.Peers[1].Families);
        Assert.Equal([65020u, 65546u], c.Peers[1].RemoteAs); // asdot 1.10 = 65546 (RFC 5396)
        Assert.Empty(c.Peers[2].RemoteAs);
        Assert.DoesNotContain("s3cret", one.ToString()); // secrets never reach logs
    }

    [Theory]
    [InlineData("asn: 65000\nrouter_idd: 192.0.2.1\n", ":2: router_idd: unknown setting")]
    [InlineData("asn: 65000\npeers:\n  - address: 192.0.2.300\n", ":3: peers.address: '192.0.2.300' is not an address")]
    [InlineData("asn: 65000\npeers:\n  - address: 192.0.2.3\n    remote_as: sixty\n", ":4: peers.remote_as: 'sixty'")]
    [InlineData("asn: 65000\nhold_time: 2\n", ":2: hold_time: a hold time is 0 or at least 3 seconds")]
    [InlineData("asn: 65000\npeers:\n  - remote_as: 1\n", ":3: peers: a peer needs an address or a range")]
    [InlineData("asn: [65000\n", "not valid YAML")]
    [InlineData("listen: 127.0.0.1\n", ":1: listen: '127.0.0.1' is not ADDRESS:PORT")]
    [InlineData("peers:\n  - range: 10.0.0.0/8\n    families: [ipv4-unicst]\n", ":3: peers.families: 'ipv4-unicst' is not a family")]
    [InlineData("peers:\n  - range: 10.0.0.0/8\n    active: true\n", ":2: peers.active: only a single address")]
    // YAML allows any node as a key; a setting name is a plain word (these crashed with an InvalidCastException).
    [InlineData("asn: 65000\n? [a, b]\n: 1\n", ":2: (top): [a, b]: a setting's name is a single word, not a list")]
    [InlineData("asn: 65000\n{a: 1}: 2\n", ":2: (top): {a: 1}: a setting's name is a single word, not a mapping")]
    [InlineData("peers:\n  - address: 192.0.2.1\n    [x]: 1\n", ":3: peers: [x]: a setting's name is a single word, not a list")]
    public void Mistakes_name_the_file_line_and_key(string yaml, string expected)
    {
        var path = Write(yaml);
        var e = Assert.Throws<ConfigException>(() => CollectorConfigFile.Load(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(expected, e.Message);
    }

    /// <summary>The real <c>bgpstream collect --config</c> process: exit 2 and one line naming the file, the line and the key; no stack trace.</summary>
    [Theory]
    [InlineData("asn: 65000\nrouter_id: 192.0.2.1\npeers:\n  - address: 192.0.2.10\n    remote_ass: 65010\n", ":5: peers.remote_ass: unknown peer setting")]
    [InlineData("asn: 65000\nrouter_id: 192.0.2.1\n{a: 1}: 2\n", ":3: (top): {a: 1}: a setting's name is a single word, not a mapping")]
    [InlineData("asn: 65000\nrouter_id: 192.0.2.1\nhold_time: 2\n", ":3: hold_time: a hold time is 0 or at least 3 seconds")]
    public async Task Collect_with_a_bad_configuration_file_exits_2_naming_the_file_line_and_key(string yaml, string expected)
    {
        var path = Write(yaml);
        var (exit, stdout, stderr) = await ProgramRun.RunAsync("dotnet", Path.Combine(AppContext.BaseDirectory, "bgpstream.dll"),
            "collect", "--config", path, "--listen", "127.0.0.1:0", "--stdout", "--http", "none");
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"bgpstream collect: {path}{expected}", line);
        Assert.DoesNotContain("Exception", stderr);
    }

    [Fact]
    public void Environment_variables_override_the_file_and_name_themselves_in_errors()
    {
        var path = Write("""
            asn: 65000
            router_id: 192.0.2.1
            listen: ["127.0.0.1:1179"]
            hold_time: 30
            peers:
              - range: 192.0.2.0/24
            """);
        var env = new Dictionary<string, string>
        {
            ["BGPSTREAM_ASN"] = "4200000001",
            ["BGPSTREAM_LISTEN"] = "0.0.0.0:179, [::]:179",
            ["BGPSTREAM_HOLD_TIME"] = "9",
        };
        var c = CollectorConfigFile.LoadWithEnvironment(path, env.GetValueOrDefault)!;
        Assert.Equal(4200000001u, c.Asn);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), c.RouterId);
        Assert.Equal([IPEndPoint.Parse("0.0.0.0:179"), IPEndPoint.Parse("[::]:179")], c.Listen);
        Assert.Equal(TimeSpan.FromSeconds(9), c.HoldTime);
        Assert.Single(c.Peers);

        // Without a file, the environment alone.
        var bare = CollectorConfigFile.LoadWithEnvironment(null, new Dictionary<string, string> { ["BGPSTREAM_ROUTER_ID"] = "192.0.2.7" }.GetValueOrDefault)!;
        Assert.Equal(IPAddress.Parse("192.0.2.7"), bare.RouterId);
        Assert.Null(CollectorConfigFile.LoadWithEnvironment(null, _ => null));

        var e = Assert.Throws<ConfigException>(() => CollectorConfigFile.LoadWithEnvironment(path, new Dictionary<string, string> { ["BGPSTREAM_HOLD_TIME"] = "2" }.GetValueOrDefault));
        Assert.Equal("environment BGPSTREAM_HOLD_TIME: a hold time is 0 or at least 3 seconds (RFC 4271 §4.2)", e.Message);
        e = Assert.Throws<ConfigException>(() => CollectorConfigFile.LoadWithEnvironment(null, new Dictionary<string, string> { ["BGPSTREAM_LISTEN"] = "nowhere" }.GetValueOrDefault));
        Assert.Equal("environment BGPSTREAM_LISTEN: 'nowhere' is not ADDRESS:PORT", e.Message);
    }

    [Fact]
    public void Missing_file_is_a_clear_error()
    {
        var e = Assert.Throws<ConfigException>(() => CollectorConfigFile.Load(Path.Combine(_dir, "nope.yaml")));
        Assert.Contains("cannot read", e.Message);
    }

    [Fact]
    public void Command_line_overrides_the_file_and_peers_add_up()
    {
        var path = Write("asn: 65000\nrouter_id: 192.0.2.1\npeers:\n  - range: 10.0.0.0/8\n");
        var o = CollectCommand.BuildOptions(path, ["127.0.0.1:1790"], "65001", null, ["127.0.0.2=65002"], 30, null);
        Assert.Equal(65001u, o.LocalAs);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), o.RouterId);
        Assert.Equal(2, o.Peers.Count);
        Assert.Equal(TimeSpan.FromSeconds(30), o.HoldTime);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:1790")], o.Listen);
    }

    [Theory]
    [InlineData(null, "192.0.2.1", "--asn")]
    [InlineData("65000", null, "--router-id")]
    [InlineData("65000", "0.0.0.0", "0.0.0.0")]
    [InlineData("65000", "2001:db8::1", "not an IPv4 address")]
    public void Required_settings_are_named(string? asn, string? routerId, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => CollectCommand.BuildOptions(null, null, asn, routerId, ["10.0.0.0/8"], null, null));
        Assert.Contains(expected, e.Message);
    }
}
