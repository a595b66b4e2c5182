using System.Net;
using System.Net.Sockets;

namespace BgpStream.Interop.Tests.Helpers;

/// <summary>
/// Addresses on <c>lo</c>. All of 127.0.0.0/8 is already routed to lo, so IPv4 needs nothing; IPv6
/// has only ::1, so extra /128s are added (with <c>nodad</c>, usable at once) and removed on dispose.
/// </summary>
public sealed class LoopbackAddress : IAsyncDisposable
{
    private readonly string? _added;

    private LoopbackAddress(IPAddress address, string? added)
    {
        Address = address;
        _added = added;
    }

    public IPAddress Address { get; }

    public static async Task<LoopbackAddress> EnsureAsync(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            if (address.GetAddressBytes()[0] != 127) throw new ArgumentException($"{address} is not in 127.0.0.0/8", nameof(address));
            return new LoopbackAddress(address, null);
        }
        if (address.Equals(IPAddress.IPv6Loopback)) return new LoopbackAddress(address, null);
        string cidr = $"{address}/128";
        var show = await ProcessRunner.RunAsync("ip", ["-6", "addr", "show", "dev", "lo"], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (show.Stdout.Contains($" {cidr} ", StringComparison.Ordinal)) return new LoopbackAddress(address, null);
        Reaper.TrackAddress(cidr);
        await ProcessRunner.RunAsync("ip", ["-6", "addr", "add", cidr, "dev", "lo", "nodad"], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return new LoopbackAddress(address, cidr);
    }

    public async ValueTask DisposeAsync()
    {
        if (_added is null) return;
        await ProcessRunner.RunAsync("ip", ["-6", "addr", "del", _added, "dev", "lo"], TimeSpan.FromSeconds(10), check: false).ConfigureAwait(false);
        Reaper.UntrackAddress(_added);
    }
}

/// <summary>A temp directory removed on dispose (and by the <see cref="Reaper"/> if the run dies).</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix)
    {
        Path = Directory.CreateTempSubdirectory($"bgpstream-{prefix}-").FullName;
        Reaper.TrackDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Keep the directory (for post-mortem) when BGPSTREAM_INTEROP_KEEP is set.</summary>
    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("BGPSTREAM_INTEROP_KEEP") is { Length: > 0 })
        {
            Reaper.UntrackDirectory(Path);
            return;
        }
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Reaper.UntrackDirectory(Path);
    }
}
