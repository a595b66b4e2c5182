using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BgpStream.Bgp;
using Xunit.Abstractions;

namespace BgpStream.Observability.Tests;

/// <summary>
/// Issue 6: "the collector runs without root (CAP_NET_BIND_SERVICE or a high port) and says how".
/// The real <c>bgpstream collect</c> runs as the unprivileged user nobody (65534), switched to by
/// <c>setpriv</c> (the tests run as root): on a high port a peer gets its session; on port 179
/// without the capability it exits 2 with the fix in its message; with only
/// <c>CAP_NET_BIND_SERVICE</c> as an ambient capability (systemd's <c>AmbientCapabilities=</c>) it
/// listens on 179. The port-179 runs are in a network namespace of their own (<c>unshare --net</c>,
/// gone with the process): a fresh namespace has Linux's default
/// <c>net.ipv4.ip_unprivileged_port_start</c> of 1024 whatever the host sets, and nothing else
/// on the machine can hold its port 179.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class CollectWithoutRootTests : IDisposable
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private const int Nobody = 65534;
    /// <summary>CAP_NET_BIND_SERVICE is capability 10 (linux/capability.h).</summary>
    private const ulong NetBindService = 1UL << 10;

    private readonly ITestOutputHelper _output;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("bgpstream-nonroot-");
    private readonly string _cli;
    private readonly string _data;

    public CollectWithoutRootTests(ITestOutputHelper output)
    {
        _output = output;
        Assert.True(Environment.IsPrivilegedProcess, "these tests switch to user nobody with setpriv: run them as root");
        // The worktree's bin folder may sit under a directory only root can enter: the unprivileged
        // process runs a world-readable copy of the CLI's build output.
        File.SetUnixFileMode(_dir.FullName, (UnixFileMode)0b111_101_101);
        _cli = Path.Combine(_dir.FullName, "cli");
        Copy(Path.GetDirectoryName(CollectProcess.CliPath())!, _cli);
        _data = Path.Combine(_dir.FullName, "data");
        Directory.CreateDirectory(_data);
        File.SetUnixFileMode(_data, (UnixFileMode)0b111_111_111); // nobody writes the output files
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        File.SetUnixFileMode(to, (UnixFileMode)0b111_101_101);
        foreach (var file in Directory.GetFiles(from))
        {
            var copy = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, copy);
            File.SetUnixFileMode(copy, (UnixFileMode)0b110_100_100);
        }
        foreach (var dir in Directory.GetDirectories(from)) Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    /// <summary><c>[unshare --net] setpriv --reuid=65534 ... dotnet bgpstream.dll collect ARGS</c>: each tool execs the next, so the process is the collector.</summary>
    private ProcessStartInfo Command(bool ownNetwork, string[] capabilities, params string[] args)
    {
        var start = new ProcessStartInfo(ownNetwork ? "unshare" : "setpriv") { WorkingDirectory = _data };
        var command = new List<string>();
        if (ownNetwork) command.AddRange(["--net", "setpriv"]);
        command.AddRange([$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups"]);
        // Ambient capabilities must also be inheritable (capabilities(7)); they survive the exec of dotnet.
        if (capabilities.Length > 0)
            command.AddRange([$"--inh-caps=+{string.Join(",+", capabilities)}", $"--ambient-caps=+{string.Join(",+", capabilities)}"]);
        command.AddRange(["dotnet", Path.Combine(_cli, "bgpstream.dll"), "collect", "--asn", "65000", "--router-id", "192.0.2.1", .. args]);
        foreach (var a in command) start.ArgumentList.Add(a);
        start.Environment["HOME"] = _data;
        return start;
    }

    /// <summary>The real, effective and saved user ids and the effective capabilities of a process (proc(5)).</summary>
    private static (int[] Uids, ulong CapEff) Credentials(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        var uids = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..4].Select(int.Parse).ToArray();
        var capEff = Convert.ToUInt64(status.Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], 16);
        return (uids, capEff);
    }

    private static async Task WaitForLog(Process collector, StringBuilder log, string text) =>
        await CollectProcess.Until(() => { lock (log) return Task.FromResult(log.ToString().Contains(text, StringComparison.Ordinal)); }, $"'{text}' in the log", collector, log);

    private static void Stop(Process collector)
    {
        if (collector.HasExited) return;
        collector.Kill(entireProcessTree: true);
        collector.WaitForExit();
    }

    [Fact(Timeout = 60_000)]
    public async Task As_user_nobody_on_a_high_port_a_peer_gets_its_session_and_the_files_are_written()
    {
        var address = IPAddress.Parse("127.0.63.1");
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var stderr = new StringBuilder();
        using var collector = CollectProcess.Start(Command(ownNetwork: false, [], "--listen", $"127.0.0.1:{bgpPort}", "--peer", $"{address}=65063",
            "--format", "jsonl", "--out", _data, "--http", $"127.0.0.1:{httpPort}"), stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await WaitForLog(collector, stderr, $"listening on 127.0.0.1:{bgpPort}");
            var (uids, capEff) = Credentials(collector.Id);
            Assert.Equal([Nobody, Nobody, Nobody], uids);
            Assert.Equal(0UL, capEff);

            using var peer = await RawBgpPeer.ConnectAsync(address, 65063, bgpPort);
            peer.Announce("10.63.0.0/16");
            await CollectProcess.Until(async () =>
            {
                try
                {
                    var sessions = JsonDocument.Parse(await http.GetStringAsync("api/sessions")).RootElement;
                    return sessions.EnumerateArray().Any(s => s.GetProperty("peer").GetString() == address.ToString()
                        && s.GetProperty("state").GetString() == "established" && s.GetProperty("prefixes").GetInt64() == 1);
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "the session established with its prefix", collector, stderr);

            Assert.Equal(0, Kill(collector.Id, 15));
            Assert.NotNull(await peer.ReceiveUntilAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(15)));
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit after SIGTERM");
            collector.WaitForExit();
            Assert.Equal(0, collector.ExitCode);
            // Published by nobody: the element is in it.
            var file = Assert.Single(Directory.GetFiles(_data, "updates.*.jsonl"));
            Assert.Contains(File.ReadLines(file), l => l.Contains("\"prefix\":\"10.63.0.0/16\"", StringComparison.Ordinal));
        }
        finally
        {
            Stop(collector);
            lock (stderr) _output.WriteLine(stderr.ToString());
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task As_user_nobody_without_the_capability_port_179_exits_2_saying_what_it_needs()
    {
        var stderr = new StringBuilder();
        // No --listen: the defaults, 0.0.0.0:179 and [::]:179.
        using var collector = CollectProcess.Start(Command(ownNetwork: true, [], "--peer", "192.0.2.0/24=any", "--stdout", "--http", "none"), stderr);
        try
        {
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit");
            collector.WaitForExit();
            string log;
            lock (stderr) log = stderr.ToString();
            _output.WriteLine(log);
            Assert.Equal(2, collector.ExitCode);
            Assert.Equal(["bgpstream collect: cannot listen on 0.0.0.0:179: Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"],
                log.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Stop(collector);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task As_user_nobody_with_only_CAP_NET_BIND_SERVICE_it_listens_on_179()
    {
        var stderr = new StringBuilder();
        // --http on the namespace's own wildcard: its log line comes once the host runs and handles SIGTERM.
        using var collector = CollectProcess.Start(Command(ownNetwork: true, ["net_bind_service"], "--peer", "192.0.2.0/24=any", "--stdout",
            "--http", "0.0.0.0:9179"), stderr);
        try
        {
            await WaitForLog(collector, stderr, "HTTP: metrics, health, API and status page on http://0.0.0.0:9179/");
            lock (stderr)
            {
                Assert.Contains("listening on 0.0.0.0:179", stderr.ToString());
                Assert.Contains("listening on [::]:179", stderr.ToString());
            }
            var (uids, capEff) = Credentials(collector.Id);
            Assert.Equal([Nobody, Nobody, Nobody], uids);
            Assert.Equal(NetBindService, capEff);
            Assert.Equal(0, Kill(collector.Id, 15));
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit after SIGTERM");
            collector.WaitForExit();
            Assert.Equal(0, collector.ExitCode);
        }
        finally
        {
            Stop(collector);
            lock (stderr) _output.WriteLine(stderr.ToString());
        }
    }
}
