using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BgpStream.Bgp;
using Xunit.Abstractions;

namespace BgpStream.Observability.Tests;

/// <summary>
/// Reloading the peers of the real <c>bgpstream collect --config</c> with raw BGP peers (the BIRD
/// version, with a removed peer and Cease 6/3, is Interop's <c>ConfigReloadTests</c>): a changed
/// entry resets its session with Cease / Other Configuration Change (RFC 4486 §4, 6/6) and the peer
/// comes back under the new settings; a file with a mistake is logged with file, line and key and
/// changes nothing. Throughout, with debug logging, a TCP-MD5 password (changed by the reload too)
/// appears in no log line, no stdout line and no HTTP endpoint.
/// </summary>
public sealed partial class CollectReloadEndToEndTests(ITestOutputHelper output)
{
    private const int SIGHUP = 1, SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static readonly IPAddress Changed = IPAddress.Parse("127.0.64.1");
    private static readonly IPAddress Kept = IPAddress.Parse("127.0.64.2");
    private const string Password = "Md5-reload-s3cret";

    private static string Yaml(int changedHoldTime, string password) => $"""
        peers:
          - address: {Changed}
            remote_as: 65064
            hold_time: {changedHoldTime}
          - address: {Kept}
            remote_as: 65065
          - address: 127.0.64.9
            remote_as: 65069
            md5_password: {password}
        """;

    [Fact(Timeout = 90_000)]
    public async Task Changed_settings_reset_with_Cease_6_6_a_bad_file_changes_nothing_and_the_password_shows_nowhere()
    {
        int bgpPort = CollectProcess.FreePort(), httpPort = CollectProcess.FreePort();
        var dir = Directory.CreateTempSubdirectory("bgpstream-reload-");
        var config = Path.Combine(dir.FullName, "collector.yaml");
        File.WriteAllText(config, Yaml(60, Password));
        var stderr = new StringBuilder();
        var stdout = new List<string>();
        using var collector = CollectProcess.Start(["collect", "--config", config, "--listen", $"127.0.0.1:{bgpPort}", "--asn", "65000",
            "--router-id", "192.0.2.1", "--stdout", "--out", dir.FullName, "--http", $"127.0.0.1:{httpPort}", "-v", "--log-format", "json"], stderr, drainStdout: false);
        collector.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Add(e.Data); };
        collector.BeginOutputReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        string Log()
        {
            lock (stderr) return stderr.ToString();
        }
        // --log-format json: the messages as written (JSON escapes ' as \u0027).
        List<string> Messages() => Log().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetString()!).ToList();
        bool Logged(string text) => Messages().Any(m => m.Contains(text, StringComparison.Ordinal));
        async Task<JsonElement?> Session(IPAddress peer)
        {
            try
            {
                var sessions = JsonDocument.Parse(await http.GetStringAsync("api/sessions")).RootElement;
                return sessions.EnumerateArray().Where(s => s.GetProperty("peer").GetString() == peer.ToString() && s.GetProperty("state").GetString() == "established")
                    .Select(s => (JsonElement?)s).FirstOrDefault();
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }
        List<JsonElement> States(IPAddress peer)
        {
            lock (stdout)
                return stdout.Select(l => JsonDocument.Parse(l).RootElement)
                    .Where(j => j.GetProperty("type").GetString() == "state" && j.GetProperty("peer_ip").GetString() == peer.ToString()).ToList();
        }
        try
        {
            await CollectProcess.Until(() => Task.FromResult(Logged($"listening on 127.0.0.1:{bgpPort}")), "listening", collector, stderr);
            var first = await RawBgpPeer.ConnectAsync(Changed, 65064, bgpPort);
            using var kept = await RawBgpPeer.ConnectAsync(Kept, 65065, bgpPort);
            JsonElement? session = null;
            await CollectProcess.Until(async () => (session = await Session(Changed)) is not null && await Session(Kept) is not null, "both sessions established", collector, stderr);
            Assert.Equal(60, session!.Value.GetProperty("hold_time_seconds").GetInt32()); // the entry's 60, below the peer's 90

            // The entry's hold time (and the MD5 peer's password) change: SIGHUP.
            File.WriteAllText(config, Yaml(30, Password + "-2"));
            Assert.Equal(0, Kill(collector.Id, SIGHUP));
            var cease = await first.ReceiveUntilAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(15));
            Assert.NotNull(cease);
            Assert.Equal((6, 6), (cease![19], cease[20])); // Cease / Other Configuration Change
            first.Dispose();
            await CollectProcess.Until(() => Task.FromResult(Logged("peers reloaded: 3 entries; sessions kept 1, de-configured 0, reset for changed settings 1")),
                "the reload's summary", collector, stderr);
            await CollectProcess.Until(() => Task.FromResult(States(Changed).Any(s => s.GetProperty("old_state").GetString() == "Established")), "the reset on stdout", collector, stderr);
            var down = States(Changed).Single(s => s.GetProperty("old_state").GetString() == "Established");
            var notification = down.GetProperty("notification");
            Assert.Equal(("sent", 6, 6, "Cease / Other Configuration Change"), (notification.GetProperty("direction").GetString(),
                notification.GetProperty("code").GetInt32(), notification.GetProperty("subcode").GetInt32(), notification.GetProperty("name").GetString()));

            // Admitted again under the new entry: its hold time is now 30.
            using var again = await RawBgpPeer.ConnectAsync(Changed, 65064, bgpPort);
            await CollectProcess.Until(async () => (session = await Session(Changed)) is not null, "the changed peer back", collector, stderr);
            Assert.Equal(30, session!.Value.GetProperty("hold_time_seconds").GetInt32());

            // A mistake (line 3): logged with file, line and key; the running list stays.
            int statesBefore = States(Changed).Count + States(Kept).Count;
            File.WriteAllText(config, Yaml(30, Password + "-3").Replace("remote_as: 65064", "remote_as: sixty-four"));
            Assert.Equal(0, Kill(collector.Id, SIGHUP));
            await CollectProcess.Until(() => Task.FromResult(Logged($"reload: {config}:3: peers.remote_as: 'sixty-four'")), "the reload error", collector, stderr);
            Assert.Contains(Messages(), m => m.StartsWith($"reload: {config}:3: peers.remote_as: 'sixty-four'", StringComparison.Ordinal)
                && m.EndsWith("; the running peer list stays", StringComparison.Ordinal));
            // Had the file been applied, the changed AS would have reset that session (6/6) again:
            // both sessions are still up and no state changed.
            Assert.NotNull(await Session(Changed));
            Assert.NotNull(await Session(Kept));
            Assert.Equal(statesBefore, States(Changed).Count + States(Kept).Count);
            // No endpoint shows any of the passwords the file had.
            foreach (var path in (string[])["metrics", "api/sessions", "api/events", "api/rates", ""])
                Assert.DoesNotContain(Password, await http.GetStringAsync(path));

            Assert.Equal(0, Kill(collector.Id, SIGTERM));
            Assert.NotNull(await kept.ReceiveUntilAsync(BgpMessageType.Notification, TimeSpan.FromSeconds(15)));
            Assert.True(collector.WaitForExit(TimeSpan.FromSeconds(30)), "collect did not exit after SIGTERM");
            collector.WaitForExit();
            Assert.Equal(0, collector.ExitCode);

            var log = Log();
            output.WriteLine(log);
            Assert.DoesNotContain(Password, log);
            lock (stdout) Assert.All(stdout, l => Assert.DoesNotContain(Password, l));
        }
        finally
        {
            if (CollectProcess.KillIfRunning(collector)) output.WriteLine(Log());
            dir.Delete(recursive: true);
        }
    }
}
