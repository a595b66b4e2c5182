using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace BgpStream.Cli.Tests;

/// <summary>
/// docker/: no Docker engine runs here, so what can be proven without one is: Debian's docker-compose
/// 1.29 accepts docker/compose.yaml, the collector's configuration loads with the real loader, BIRD and
/// FRR accept the peers' configurations and they name the collector as it names them, and the image
/// is built by the same script the README's set-up runs (scripts/build.sh), which every test run proves.
/// </summary>
public sealed class DockerComposeTests
{
    private static readonly string Root = FindRoot();
    private static readonly string Docker = Path.Combine(Root, "docker");
    private static readonly string ComposeFile = Path.Combine(Docker, "compose.yaml");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BgpStream.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no BgpStream.sln above {AppContext.BaseDirectory}");
    }

    private static (int Exit, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        foreach (var a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} is not installed (scripts/setup.sh --tests installs it): {e.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>The file as docker-compose resolves it (paths absolute, short forms expanded).</summary>
    private static readonly Lazy<YamlMappingNode> Resolved = new(() =>
    {
        var (exit, stdout, stderr) = Run("docker-compose", "-f", ComposeFile, "config");
        Assert.True(exit == 0, $"docker-compose config failed ({exit}): {stderr}");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(stdout));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    });

    private static YamlMappingNode Service(string name) =>
        (YamlMappingNode)((YamlMappingNode)Resolved.Value["services"])[name];

    private static List<string> Strings(YamlNode node) =>
        ((YamlSequenceNode)node).Children.Select(n => ((YamlScalarNode)n).Value!).ToList();

    /// <summary>A scalar by its path of keys; a number in the path indexes a sequence.</summary>
    private static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path)
            node = node is YamlSequenceNode seq ? seq.Children[int.Parse(key)] : ((YamlMappingNode)node)[key];
        return ((YamlScalarNode)node).Value!;
    }

    private static IPAddress PeeringAddress(string service) =>
        IPAddress.Parse(Scalar(Service(service), "networks", "peering", "ipv4_address"));

    private static readonly Lazy<CollectorConfigFile> CollectorConfig =
        new(() => CollectorConfigFile.Load(Path.Combine(Docker, "collector.yaml")));

    /// <summary>The AS numbers docker/collector.yaml accepts from the neighbor at this address.</summary>
    private static IReadOnlyList<uint> RemoteAsOf(IPAddress address)
    {
        var peer = CollectorConfig.Value.Peers.SingleOrDefault(p => p.IsSingleAddress && p.Range.BaseAddress.Equals(address));
        Assert.True(peer is not null, $"docker/collector.yaml has no neighbor {address}");
        return peer.RemoteAs;
    }

    [Fact]
    public void Debians_docker_compose_accepts_the_file_and_lists_the_five_services()
    {
        Assert.NotNull(Resolved.Value);
        var (exit, stdout, stderr) = Run("docker-compose", "-f", ComposeFile, "config", "--services");
        Assert.True(exit == 0, $"docker-compose config --services failed ({exit}): {stderr}");
        var services = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order();
        Assert.Equal(["bird", "collector", "consumer", "frr", "kafka"], services);
    }

    [Fact]
    public void Collector_sends_to_kafka_writes_arrow_to_a_volume_and_serves_http_on_every_address()
    {
        var collector = Service("collector");
        var command = Strings(collector["command"]);
        Assert.Equal("collect", command[0]);
        string After(string option)
        {
            int i = command.IndexOf(option);
            Assert.True(i >= 0 && i + 1 < command.Count, $"the collector's command has no {option}: {string.Join(' ', command)}");
            return command[i + 1];
        }
        Assert.Equal("kafka:9092", After("--kafka"));
        Assert.Equal("arrow", After("--format"));
        Assert.Equal("/data", After("--out"));
        Assert.Equal("0.0.0.0:9179", After("--http")); // the default 127.0.0.1 is unreachable from outside the container
        Assert.Equal("/etc/bgpstream/collector.yaml", After("--config"));

        var volumes = Strings(collector["volumes"]);
        Assert.Contains(volumes, v => Regex.IsMatch(v, @"^collector-data:/data(:rw)?$"));
        Assert.Contains(volumes, v => v == $"{Path.Combine(Docker, "collector.yaml")}:/etc/bgpstream/collector.yaml:ro");
        Assert.Equal("docker/Dockerfile", Scalar(collector, "build", "dockerfile"));
        Assert.Equal(Root, Scalar(collector, "build", "context"));
        Assert.Equal("service_healthy", Scalar(collector, "depends_on", "kafka", "condition"));
    }

    [Fact]
    public void The_status_page_is_published_on_the_loopback_address_only()
    {
        foreach (var (name, node) in ((YamlMappingNode)Resolved.Value["services"]).Children)
        {
            if (!((YamlMappingNode)node).Children.TryGetValue("ports", out var ports)) continue;
            foreach (var port in ((YamlSequenceNode)ports).Children)
            {
                // docker-compose writes "IP:HOST:CONTAINER/tcp", or the long form when no IP is given.
                var hostIp = port is YamlScalarNode text ? text.Value!.Split(':')[0]
                    : ((YamlMappingNode)port).Children.TryGetValue("host_ip", out var ip) ? ((YamlScalarNode)ip).Value : null;
                Assert.True(hostIp == "127.0.0.1", $"{name} publishes {port} beyond this machine");
            }
        }
        Assert.Equal(["127.0.0.1:9179:9179/tcp"], Strings(Service("collector")["ports"]));
    }

    [Fact]
    public void Kafka_runs_in_kraft_mode_advertised_as_kafka_9092_with_a_health_check()
    {
        var kafka = Service("kafka");
        string Env(string key) => Scalar(kafka, "environment", key);
        Assert.Equal("broker,controller", Env("KAFKA_PROCESS_ROLES"));
        Assert.Equal("PLAINTEXT://kafka:9092", Env("KAFKA_ADVERTISED_LISTENERS"));
        Assert.Equal($"{Env("KAFKA_NODE_ID")}@kafka:9093", Env("KAFKA_CONTROLLER_QUORUM_VOTERS"));
        Assert.Contains("CONTROLLER://:9093", Env("KAFKA_LISTENERS"));
        Assert.Contains("localhost:9092", string.Join(' ', Strings(((YamlMappingNode)kafka["healthcheck"])["test"])));
        var consumer = Service("consumer");
        Assert.Equal("service_healthy", Scalar(consumer, "depends_on", "kafka", "condition"));
        var script = string.Join('\n', Strings(consumer["command"]));
        Assert.Contains("bgpstream.updates", script);
        Assert.Contains("bgpstream.events", script);
        Assert.Contains("kafka:9092", script);
    }

    [Fact]
    public void Every_image_and_base_image_is_pinned()
    {
        foreach (var node in ((YamlMappingNode)Resolved.Value["services"]).Children.Values)
        {
            var service = (YamlMappingNode)node;
            if (service.Children.ContainsKey("build")) continue; // our own images, tagged for this file
            Assert.Matches(@"^[\w./-]+:\d+(\.\d+)+$", Scalar(service, "image")); // a release, not latest or a moving major
        }
        foreach (var dockerfile in Directory.GetFiles(Docker, "*Dockerfile", SearchOption.AllDirectories))
            foreach (var from in File.ReadLines(dockerfile).Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)))
                Assert.Matches(@"^FROM [\w./-]+:\d+(\.\d+)+(-slim)?( AS \w+)?$", from);
    }

    [Fact]
    public void Collector_config_loads_with_the_real_loader_and_names_both_peers_on_the_peering_lan()
    {
        var config = CollectorConfig.Value;
        Assert.Equal(65000u, config.Asn);
        Assert.Equal(PeeringAddress("collector"), config.RouterId);
        Assert.Equal([IPEndPoint.Parse("0.0.0.0:179")], config.Listen);
        var subnet = IPNetwork.Parse(Scalar(Resolved.Value, "networks", "peering", "ipam", "config", "0", "subnet"));
        foreach (var service in new[] { "collector", "bird", "frr" })
            Assert.True(subnet.Contains(PeeringAddress(service)), $"{service} is outside the peering LAN {subnet}");
        Assert.Equal(2, config.Peers.Count);
        foreach (var peer in config.Peers)
        {
            Assert.True(peer.IsSingleAddress);
            Assert.Single(peer.RemoteAs);
            Assert.InRange(peer.RemoteAs[0], 64512u, 65534u); // RFC 6996 private-use ASes
        }
        Assert.Equal(
            new[] { PeeringAddress("bird"), PeeringAddress("frr") }.Select(a => a.ToString()).Order(),
            config.Peers.Select(p => p.Range.BaseAddress.ToString()).Order());
    }

    [Fact]
    public void Bird_config_parses_with_bird_and_peers_with_the_collector_as_it_expects()
    {
        var path = Path.Combine(Docker, "peers", "bird.conf");
        var (exit, _, stderr) = Run("bird", "-p", "-c", path);
        Assert.True(exit == 0, $"bird -p -c {path}: {stderr}");
        var text = File.ReadAllText(path);
        var neighbor = Regex.Match(text, @"^\s*neighbor\s+(\S+)\s+as\s+(\d+);", RegexOptions.Multiline);
        var local = Regex.Match(text, @"^\s*local\s+(\S+)\s+as\s+(\d+);", RegexOptions.Multiline);
        Assert.True(neighbor.Success && local.Success, "bird.conf needs `local ADDR as N;` and `neighbor ADDR as N;`");
        Assert.Equal(PeeringAddress("collector"), IPAddress.Parse(neighbor.Groups[1].Value));
        Assert.Equal(CollectorConfig.Value.Asn, uint.Parse(neighbor.Groups[2].Value));
        Assert.Equal(PeeringAddress("bird"), IPAddress.Parse(local.Groups[1].Value));
        Assert.Equal([uint.Parse(local.Groups[2].Value)], RemoteAsOf(PeeringAddress("bird")));
        Assert.Matches(@"route 198\.51\.100\.0/25", text); // documentation prefixes only (RFC 5737)
        Assert.Contains($"{path}:/etc/bird/bird.conf:ro", Strings(Service("bird")["volumes"]));
    }

    [Fact]
    public void Frr_config_passes_vtysh_dryrun_and_peers_with_the_collector_as_it_expects()
    {
        var path = Path.Combine(Docker, "peers", "frr.conf");
        var (exit, stdout, stderr) = Run("vtysh", "--dryrun", "-f", path);
        Assert.True(exit == 0, $"vtysh --dryrun -f {path}: {stdout}{stderr}");
        var text = File.ReadAllText(path);
        var router = Regex.Match(text, @"^router bgp (\d+)$", RegexOptions.Multiline);
        var routerId = Regex.Match(text, @"^\s*bgp router-id (\S+)$", RegexOptions.Multiline);
        var neighbors = Regex.Matches(text, @"^\s*neighbor (\S+) remote-as (\d+)$", RegexOptions.Multiline);
        Assert.True(router.Success && routerId.Success, "frr.conf needs `router bgp N` and `bgp router-id`");
        var neighbor = Assert.Single(neighbors);
        Assert.Equal(PeeringAddress("collector"), IPAddress.Parse(neighbor.Groups[1].Value));
        Assert.Equal(CollectorConfig.Value.Asn, uint.Parse(neighbor.Groups[2].Value));
        Assert.Equal(PeeringAddress("frr"), IPAddress.Parse(routerId.Groups[1].Value));
        Assert.Equal([uint.Parse(router.Groups[1].Value)], RemoteAsOf(PeeringAddress("frr")));
        Assert.Contains("bgpd=yes", File.ReadAllLines(Path.Combine(Docker, "peers", "daemons")));
        var volumes = Strings(Service("frr")["volumes"]);
        Assert.Contains($"{path}:/etc/frr/frr.conf:ro", volumes);
        Assert.Contains($"{Path.Combine(Docker, "peers", "daemons")}:/etc/frr/daemons:ro", volumes);
    }

    /// <summary>
    /// The build context is the sources. Debian's docker-compose 1.29 builds without BuildKit, which
    /// reads only the root .dockerignore; BuildKit prefers docker/Dockerfile.dockerignore. Both hold
    /// the same patterns, and applied to this checkout (bin/, obj/ and node_modules/ are here after a
    /// build) they keep every file git tracks and drop every build output.
    /// </summary>
    [Fact]
    public void Both_dockerignore_files_keep_every_tracked_file_and_drop_the_build_outputs()
    {
        static List<string> Patterns(string path) =>
            File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var patterns = Patterns(Path.Combine(Root, ".dockerignore"));
        Assert.Equal(patterns, Patterns(Path.Combine(Docker, "Dockerfile.dockerignore")));
        // Docker's matcher for the two forms used: "**/NAME" is NAME at any depth (** is zero or more
        // directories), "NAME" is NAME at the top; an excluded directory takes its contents with it.
        Assert.All(patterns, p => Assert.Matches(@"^(\*\*/)?[A-Za-z0-9._-]+$", p));
        bool Ignored(string relative)
        {
            var parts = relative.Split('/');
            return patterns.Any(p => p.StartsWith("**/", StringComparison.Ordinal) ? parts.Contains(p[3..]) : parts[0] == p);
        }

        var (exit, stdout, stderr) = Run("git", "ls-files");
        Assert.True(exit == 0, $"git ls-files failed ({exit}): {stderr}");
        var tracked = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("scripts/build.sh", tracked);
        Assert.DoesNotContain(tracked, Ignored);

        Assert.True(Ignored(".git"));
        var outputs = new List<string>();
        void Walk(string dir)
        {
            foreach (var sub in Directory.GetDirectories(dir))
            {
                var relative = Path.GetRelativePath(Root, sub).Replace('\\', '/');
                if (relative == ".git") continue;
                if (Path.GetFileName(sub) is "bin" or "obj" or "node_modules") outputs.Add(relative);
                else Walk(sub);
            }
        }
        Walk(Root);
        Assert.Contains(outputs, o => o.EndsWith("/bin", StringComparison.Ordinal)); // this test's own project was built
        Assert.DoesNotContain(outputs, o => !Ignored(o));
    }

    [Fact]
    public void The_image_is_built_by_the_script_the_readme_set_up_runs()
    {
        // README: scripts/run.sh is the set-up; it builds through scripts/build.sh, which runs
        // scripts/setup.sh and the publish. The Dockerfile's build stage runs that same script.
        Assert.Contains("scripts/run.sh", File.ReadAllText(Path.Combine(Root, "README.md")));
        var runSh = File.ReadAllLines(Path.Combine(Root, "scripts", "run.sh"));
        Assert.Contains(runSh, l => Regex.IsMatch(l, @"^scripts/build\.sh\b"));
        Assert.DoesNotContain(runSh, l => l.Contains("dotnet publish")); // one publish command, in build.sh
        var buildSh = File.ReadAllLines(Path.Combine(Root, "scripts", "build.sh"));
        Assert.Contains("scripts/setup.sh", buildSh);
        Assert.Contains(buildSh, l => l.TrimStart().StartsWith("dotnet publish src/BgpStream.Cli ", StringComparison.Ordinal));
        Assert.Contains(buildSh, l => l.TrimStart().StartsWith("dotnet publish src/BgpStream.Cli.Native ", StringComparison.Ordinal));
        Assert.Contains(File.ReadAllLines(Path.Combine(Root, "scripts", "setup.sh")), l => l.Contains("missing+=(docker-compose)"));

        var dockerfile = File.ReadAllLines(Path.Combine(Docker, "Dockerfile"));
        var froms = dockerfile.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("FROM ", StringComparison.Ordinal)).Select(x => x.i).ToList();
        Assert.Equal(2, froms.Count);
        var build = dockerfile[froms[0]..froms[1]];
        var runtime = dockerfile[froms[1]..];
        Assert.Contains("RUN scripts/build.sh /out", build);
        Assert.DoesNotContain(dockerfile, l => l.Contains("dotnet publish"));
        Assert.Contains(runtime, l => l == "COPY --from=build /out /opt/bgpstream");

        // Runtime: Debian 12 with the distribution's librdkafka (LibrdkafkaLoader loads librdkafka.so.1).
        Assert.Matches(@"^FROM debian:12(\.\d+)?-slim$", runtime[0]);
        var text = string.Join('\n', runtime);
        Assert.Matches(@"install[^\n]*(\\\n[^\n]*)*\blibrdkafka1\b", text);
        Assert.Matches(@"install[^\n]*(\\\n[^\n]*)*\blibbz2-1\.0\b", text);
        // collect runs as lib/bgpstream (the Native AOT front execs it): the capability goes there.
        Assert.Contains("setcap cap_net_bind_service=+ep /opt/bgpstream/lib/bgpstream", text);
        var user = Assert.Single(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"^USER (root|0)(:|$)", user);
        var expose = Assert.Single(runtime, l => l.StartsWith("EXPOSE ", StringComparison.Ordinal)).Split(' ')[1..];
        Assert.Equal(["179", "9179"], expose);
        Assert.Contains("http://127.0.0.1:9179/healthz", text);
        Assert.Contains("\"--http\", \"0.0.0.0:9179\"", text);
        foreach (var copy in dockerfile.Where(l => l.StartsWith("COPY docker/", StringComparison.Ordinal)))
            Assert.True(File.Exists(Path.Combine(Root, copy.Split(' ')[1])), copy);
    }
}
