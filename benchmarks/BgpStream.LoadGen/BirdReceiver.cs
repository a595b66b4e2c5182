using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace BgpStream.LoadGen;

/// <summary>
/// BIRD 2 as the receiving side of the full-table comparisons: one passive BGP protocol per
/// neighbor, all on one custom port, that imports everything into master4/master6 and exports nothing. Next hops resolve through
/// static routes over lo, as a multihop session's recursive next hops would through an IGP. The
/// process and its temporary directory go away on dispose, whatever happened.
/// </summary>
internal sealed partial class BirdReceiver : IDisposable
{
    public const string Protocol = "feeder";
    private readonly string _dir;
    private readonly ChildProcess _bird;
    private readonly System.Text.StringBuilder _log = new();
    private BirdControl? _control;
    private IDisposable? _removeDir;

    private BirdReceiver(string dir, ChildProcess bird, int port)
    {
        _dir = dir;
        _bird = bird;
        Port = port;
    }

    public int Port { get; }
    public string Socket => Path.Combine(_dir, "bird.ctl");
    public int Pid => _bird.Process.Id;
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static Task<BirdReceiver> StartAsync(uint localAs, IPAddress neighbor, uint neighborAs, string nextHop4Route, string nextHop6Route) =>
        StartAsync(localAs, [new BirdNeighbor(Protocol, neighbor, neighborAs)], nextHop4Route, nextHop6Route);

    /// <summary>One passive <c>protocol bgp</c> per neighbor, all on the same port.</summary>
    public static async Task<BirdReceiver> StartAsync(uint localAs, IReadOnlyList<BirdNeighbor> neighbors, string nextHop4Route, string nextHop6Route)
    {
        var dir = Directory.CreateTempSubdirectory("bgpstream-loadgen-bird-").FullName;
        try
        {
            int port = FreePort();
            var config = Path.Combine(dir, "bird.conf");
            var protocols = string.Concat(neighbors.Select(n => $$"""
                protocol bgp {{n.Protocol}} {
                  local as {{localAs}};
                  local port {{port}};
                  neighbor {{n.Address}} as {{n.Asn}};
                  passive on;
                  multihop;
                  hold time 90;
                  ipv4 { import all; export none; import keep filtered on; };
                  ipv6 { import all; export none; import keep filtered on; };
                }

                """));
            await File.WriteAllTextAsync(config, ($$"""
                router id 192.0.2.254;
                log stderr { warning, error, fatal };
                protocol device { scan time 600; }
                protocol static nh4 { ipv4; route {{nextHop4Route}} via "lo"; }
                protocol static nh6 { ipv6; route {{nextHop6Route}} via "lo"; }

                """ + protocols).Replace("\r", "", StringComparison.Ordinal));
            var check = await RunAsync("bird", ["-p", "-c", config], TimeSpan.FromSeconds(10));
            if (check.ExitCode != 0) throw new InvalidOperationException($"bird -p rejected the config: {check.Output}");
            var bird = ChildProcess.Start("bird", ["-f", "-c", config, "-s", Path.Combine(dir, "bird.ctl"), "-P", Path.Combine(dir, "bird.pid")]);
            var receiver = new BirdReceiver(dir, bird, port);
            receiver._removeDir = Cleanup.Register(() => TryDelete(dir));
            bird.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (receiver._log) receiver._log.AppendLine(e.Data); };
            bird.Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (receiver._log) receiver._log.AppendLine(e.Data); };
            bird.Process.BeginErrorReadLine();
            bird.Process.BeginOutputReadLine();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!File.Exists(receiver.Socket) || (await receiver.BirdcAsync("show status")).ExitCode != 0)
            {
                if (bird.Process.HasExited) throw new InvalidOperationException($"bird exited with {bird.Process.ExitCode}: {receiver.Log}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"bird did not come up: {receiver.Log}");
                await Task.Delay(50);
            }
            return receiver;
        }
        catch
        {
            TryDelete(dir);
            throw;
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public Task<(int ExitCode, string Output)> BirdcAsync(string command) =>
        RunAsync("birdc", ["-s", Socket, .. command.Split(' ')], TimeSpan.FromSeconds(30));

    /// <summary>
    /// Routes imported plus filtered on the feeder protocol, from <c>show protocols all</c>: per
    /// channel "Routes: N imported, M filtered, ...", which BIRD keeps as counters (no table walk).
    /// </summary>
    public async Task<long> ReceivedRoutesAsync(string protocol = Protocol)
    {
        _control ??= await BirdControl.ConnectAsync(Socket);
        var output = await _control.CommandAsync($"show protocols all {protocol}");
        long total = 0;
        foreach (Match m in RoutesRegex().Matches(output))
        {
            total += long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (m.Groups[2].Success) total += long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return total;
    }

    /// <summary>
    /// <c>show memory</c>: BIRD's own account of its allocations, and its "Total" line in bytes
    /// (the effective figure; BIRD prints kB/MB with two or three significant decimals).
    /// </summary>
    public async Task<(long TotalBytes, string Text)> MemoryAsync()
    {
        _control ??= await BirdControl.ConnectAsync(Socket);
        var output = await _control.CommandAsync("show memory");
        var m = TotalRegex().Match(output);
        if (!m.Success) return (-1, output);
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        long scale = m.Groups[2].Value switch { "kB" => 1024L, "MB" => 1024L * 1024, "GB" => 1024L * 1024 * 1024, _ => 1 };
        return ((long)(value * scale), output);
    }

    [GeneratedRegex(@"Total:\s+([\d.]+)\s*(B|kB|MB|GB)")]
    private static partial Regex TotalRegex();

    public async Task<string> RouteCountAsync() => (await BirdcAsync("show route count")).Output.Trim();

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, TimeSpan timeout)
    {
        using var child = ChildProcess.Start(file, args);
        var stdout = child.Process.StandardOutput.ReadToEndAsync();
        var stderr = child.Process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await child.Process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{file} {string.Join(' ', args)} took over {timeout.TotalSeconds:F0} s");
        }
        return (child.Process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"Routes:\s+(\d+) imported(?:, (\d+) filtered)?")]
    private static partial Regex RoutesRegex();

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _control?.Dispose();
        _bird.Dispose();
        _removeDir?.Dispose();
        TryDelete(_dir);
    }
}

/// <summary>A neighbor of <see cref="BirdReceiver"/>: its protocol name, address and AS.</summary>
internal sealed record BirdNeighbor(string Protocol, IPAddress Address, uint Asn);

/// <summary>
/// BIRD's control socket spoken directly (what birdc does), so that polling costs no process start:
/// a reply is lines "DDDD-text" or " text" ending with a line "DDDD text".
/// </summary>
internal sealed class BirdControl : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;

    private BirdControl(Socket socket)
    {
        _socket = socket;
        _reader = new StreamReader(new NetworkStream(socket, ownsSocket: false));
    }

    public static async Task<BirdControl> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var control = new BirdControl(socket);
        await control.ReadReplyAsync(); // "0001 BIRD 2.0.12 ready."
        return control;
    }

    public async Task<string> CommandAsync(string command)
    {
        await _socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(command + "\n"), SocketFlags.None);
        return await ReadReplyAsync();
    }

    private async Task<string> ReadReplyAsync()
    {
        var sb = new System.Text.StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("BIRD closed its control socket");
            sb.AppendLine(line.Length > 5 && char.IsAsciiDigit(line[0]) ? line[5..] : line.TrimStart());
            if (line.Length >= 5 && char.IsAsciiDigit(line[0]) && line[4] == ' ') return sb.ToString();
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _socket.Dispose();
    }
}
