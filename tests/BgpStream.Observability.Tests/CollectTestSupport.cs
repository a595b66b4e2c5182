using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BgpStream.Bgp;

namespace BgpStream.Observability.Tests;

/// <summary>
/// Running the real <c>bgpstream collect</c> executable from a test: where it is, a free port, and a
/// bounded wait that fails with the collector's log. Shared by the end-to-end tests, starting with
/// <c>CollectHttpEndToEndTests</c>; BgpStream.Kafka.Tests compiles this file in too (<c>collect --kafka</c>).
/// </summary>
internal static class CollectProcess
{
    /// <summary>src/BgpStream.Cli/bin/&lt;Configuration&gt;/net10.0/bgpstream.dll, next to this test's own bin folder.</summary>
    public static string CliPath()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string configuration = here.Parent!.Name;
        var path = Path.Combine(RepositoryRoot(), "src", "BgpStream.Cli", "bin", configuration, "net10.0", "bgpstream.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first");
        return path;
    }

    /// <summary>tests/BgpStream.Observability.Tests/bin/&lt;Configuration&gt;/net10.0 → the repository.</summary>
    public static string RepositoryRoot() =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Starts <c>dotnet bgpstream.dll</c> with the arguments; stderr is collected into <paramref name="log"/>, stdout drained.</summary>
    /// <param name="drainStdout">false: nobody reads stdout until the test does (<see cref="Process.BeginOutputReadLine"/>), so its pipe fills.</param>
    public static Process Start(IEnumerable<string> arguments, StringBuilder log, bool drainStdout = true)
    {
        var start = new ProcessStartInfo("dotnet");
        start.ArgumentList.Add(CliPath());
        foreach (var a in arguments) start.ArgumentList.Add(a);
        return Start(start, log, drainStdout);
    }

    /// <summary>Starts <paramref name="start"/> (a launcher such as <c>setpriv ... dotnet bgpstream.dll collect ...</c>) with its output handled as above.</summary>
    public static Process Start(ProcessStartInfo start, StringBuilder log, bool drainStdout = true)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        var collector = Process.Start(start)!;
        collector.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        collector.BeginErrorReadLine();
        if (!drainStdout) return collector;
        collector.OutputDataReceived += (_, _) => { };
        collector.BeginOutputReadLine();
        return collector;
    }

    /// <summary>Polls a condition for up to 30 s; fails early with the log when the collector exits.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what, Process collector, StringBuilder log)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (collector.HasExited || DateTime.UtcNow > deadline)
                lock (log) Assert.Fail($"{what}: not reached (collector {(collector.HasExited ? $"exited {collector.ExitCode}" : "running")}); log:\n{log}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// For a test's <c>finally</c>: kills the collector and its children if the test left it
    /// running (an assertion failed first) and waits for it. True when it had to kill.
    /// </summary>
    public static bool KillIfRunning(Process collector)
    {
        if (collector.HasExited) return false;
        collector.Kill(entireProcessTree: true);
        collector.WaitForExit();
        return true;
    }

    /// <summary>Whether <c>/healthz</c> answers 200 (false while the host is not listening yet).</summary>
    public static async Task<bool> Healthy(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("healthz");
            return response.StatusCode == System.Net.HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

/// <summary>
/// An active BGP peer made of our codec's writers over a socket: OPEN (Hold Time 90, IPv4 unicast,
/// 4-octet AS), the collector's OPEN read, KEEPALIVE both ways; then whatever the test sends.
/// </summary>
internal sealed class RawBgpPeer : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _count;

    private RawBgpPeer(Socket socket, IPAddress address, uint asn) => (_socket, Address, Asn) = (socket, address, asn);

    public IPAddress Address { get; }
    public uint Asn { get; }

    /// <summary>Connects from <paramref name="address"/> (a loopback address: Linux routes all of 127/8 to lo) and completes the handshake.</summary>
    public static async Task<RawBgpPeer> ConnectAsync(IPAddress address, uint asn, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10))) await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        var peer = new RawBgpPeer(socket, address, asn);
        var buffer = new byte[4096];
        var open = new OpenMessageWriter(buffer, asn, 90, BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()));
        open.AddMultiprotocol(Afi.IPv4, Safi.Unicast);
        open.AddFourOctetAs(asn);
        peer.Send(buffer.AsSpan(0, open.Finish()));
        Assert.NotNull(await peer.ReceiveUntilAsync(BgpMessageType.Open, TimeSpan.FromSeconds(10)));
        peer.SendKeepalive();
        Assert.NotNull(await peer.ReceiveUntilAsync(BgpMessageType.Keepalive, TimeSpan.FromSeconds(10)));
        return peer;
    }

    public void Send(ReadOnlySpan<byte> message) => _socket.Send(message);

    public void SendKeepalive()
    {
        Span<byte> buffer = stackalloc byte[BgpConstants.HeaderLength];
        Send(buffer[..BgpMessageWriter.WriteKeepalive(buffer)]);
    }

    /// <summary>An UPDATE announcing the prefixes: ORIGIN IGP, AS_PATH our AS, NEXT_HOP our address.</summary>
    public void Announce(params string[] prefixes)
    {
        var buffer = new byte[4096];
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        w.AddOrigin(Origin.Igp);
        w.AddAsSequence([Asn]);
        w.AddNextHop(BinaryPrimitives.ReadUInt32BigEndian(Address.GetAddressBytes()));
        foreach (var p in prefixes) w.AddNlri(IpPrefix.Parse(p));
        Send(buffer.AsSpan(0, w.Finish()));
    }

    /// <summary>An UPDATE withdrawing the prefixes (no path attributes: RFC 4271 §4.3).</summary>
    public void Withdraw(params string[] prefixes)
    {
        var buffer = new byte[4096];
        var w = new UpdateMessageWriter(buffer, BgpDecodeContext.Modern);
        foreach (var p in prefixes) w.AddWithdrawn(IpPrefix.Parse(p));
        Send(buffer.AsSpan(0, w.Finish()));
    }

    /// <summary>Cease with a Shutdown Communication (RFC 9003 §2), then the connection closed, as an operator's shutdown does.</summary>
    public void Shutdown(byte subcode, string text)
    {
        var buffer = new byte[512];
        Send(buffer.AsSpan(0, BgpMessageWriter.WriteShutdownNotification(buffer, subcode, text)));
        _socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>The next message of <paramref name="type"/> (others are skipped); null when the connection closes first.</summary>
    public async Task<byte[]?> ReceiveUntilAsync(BgpMessageType type, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            while (_count >= BgpConstants.HeaderLength && _count >= BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(16)))
            {
                int length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(16));
                var message = _buffer[..length];
                _buffer.AsSpan(length, _count - length).CopyTo(_buffer);
                _count -= length;
                if ((BgpMessageType)message[18] == type) return message;
            }
            int n = await _socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, cts.Token);
            if (n == 0) return null;
            _count += n;
        }
    }

    public void Dispose() => _socket.Dispose();
}
