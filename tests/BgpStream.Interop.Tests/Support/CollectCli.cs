using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using BgpStream.Interop.Tests.Routes;
using BgpStream.Interop.Tests.Speakers;

namespace BgpStream.Interop.Tests.Support;

/// <summary>
/// The real <c>bgpstream collect</c> executable run from a test: where it is, a free port, signals,
/// bounded waits, and reading what it wrote (files still open by the collector, MRT through bgpdump).
/// </summary>
internal static partial class CollectCli
{
    /// <summary>kill(2): SIGTERM (15) exercises the graceful shutdown, SIGKILL (9) a crash.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>src/BgpStream.Cli/bin/&lt;Configuration&gt;/net10.0/bgpstream.dll, next to this test's own bin folder.</summary>
    public static string CliPath()
    {
        // tests/BgpStream.Interop.Tests/bin/<Configuration>/net10.0 -> src/BgpStream.Cli/bin/<Configuration>/net10.0
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string configuration = here.Parent!.Name;
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "src", "BgpStream.Cli", "bin", configuration, "net10.0", "bgpstream.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first (scripts/test.sh does)");
        return path;
    }

    public static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Starts <c>bgpstream collect</c> on 127.0.0.1:<paramref name="port"/> (AS 65000, id 192.0.2.1); stdout is the caller's to read, stderr is collected.</summary>
    public static Process StartCollect(int port, out StringBuilder stderr, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        // --http defaults to 127.0.0.1:9179: two collectors at once (tests in parallel) would clash on it.
        string[] http = args.Contains("--http") ? [] : ["--http", "none"];
        foreach (var a in (string[])[CliPath(), "collect", "--listen", $"127.0.0.1:{port}", "--asn", "65000", "--router-id", "192.0.2.1", .. http, .. args])
            start.ArgumentList.Add(a);
        var collector = Process.Start(start)!;
        var log = new StringBuilder();
        collector.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        collector.BeginErrorReadLine();
        stderr = log;
        return collector;
    }

    /// <summary>
    /// Waits for <paramref name="collector"/> to exit and then for its stderr to reach the log:
    /// <see cref="Process.WaitForExit(TimeSpan)"/> alone returns before the last lines of an
    /// asynchronously read stream are delivered, so a log read right after it can miss the summary.
    /// </summary>
    public static bool WaitForExitAndLog(Process collector, TimeSpan timeout)
    {
        if (!collector.WaitForExit(timeout)) return false;
        collector.WaitForExit(); // returns once the redirected streams are at EOF
        return true;
    }

    /// <summary>BIRD at <paramref name="local"/> (a loopback address) peering actively with the collector on 127.0.0.1:<paramref name="port"/>, announcing <paramref name="routes"/>.</summary>
    public static BirdSpeaker Bird(IPAddress local, uint asn, int port, ushort holdTime, RouteSet routes) => new(new SpeakerOptions
    {
        LocalAddress = local,
        LocalAs = asn,
        CollectorAddress = IPAddress.Loopback,
        CollectorPort = port,
        HoldTime = holdTime,
        Routes = routes,
    });

    /// <summary>
    /// The JSON-lines file sink's open file (<c>updates.*.jsonl.tmp</c> in <paramref name="dir"/>) once it holds
    /// <paramref name="lines"/> lines: that sink has its own lane, so it gets the table while stdout is stalled.
    /// </summary>
    public static async Task<string> JsonLinesFileHoldingAsync(string dir, int lines, TimeSpan timeout)
    {
        string tmp = "";
        await Poll(() =>
        {
            tmp = Directory.GetFiles(dir, "updates.*.jsonl.tmp").SingleOrDefault() ?? "";
            return tmp != "" && CountLines(tmp) >= lines;
        }, timeout, "the table in the JSON-lines file while stdout is stalled");
        return tmp;
    }

    public static async Task Poll(Func<bool> condition, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>Lines in a file the collector may still be writing (or renaming).</summary>
    public static int CountLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var text = new StreamReader(stream);
        int n = 0;
        while (text.ReadLine() is not null) n++;
        return n;
    }

    /// <summary><c>bgpdump -m</c> over an MRT file: its exit code, its one-line-per-element output and its complaints.</summary>
    public static (int ExitCode, string Output, string Errors) Bgpdump(string file)
    {
        var psi = new ProcessStartInfo("/usr/bin/bgpdump", ["-m", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var errors = p.StandardError.ReadToEndAsync();
        var text = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)));
        return (p.ExitCode, text, errors.Result);
    }
}
