using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace BgpStream.LoadGen;

/// <summary>Finds the shared corpus: $BGPSTREAM_CORPUS, else shared/corpus or ../shared/corpus above the binary or the working directory.</summary>
internal static class CorpusLocator
{
    public static string Root()
    {
        var env = Environment.GetEnvironmentVariable("BGPSTREAM_CORPUS");
        if (!string.IsNullOrEmpty(env))
            return File.Exists(Path.Combine(env, "SOURCES.md")) ? Path.GetFullPath(env)
                : throw new InvalidOperationException($"BGPSTREAM_CORPUS={env} does not hold the corpus (no SOURCES.md)");
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "corpus"), Path.Combine(dir.FullName, "..", "shared", "corpus") })
                    if (File.Exists(Path.Combine(candidate, "SOURCES.md"))) return Path.GetFullPath(candidate);
            }
        }
        throw new InvalidOperationException("the BGP corpus is missing: expected ../shared/corpus beside the repository or $BGPSTREAM_CORPUS");
    }
}

/// <summary>
/// Source addresses for load-generator sessions. Linux routes all of 127/8 to lo, so each session
/// can have its own peer address (and its own ephemeral port range) without any setup.
/// </summary>
internal static class LoopbackAddresses
{
    /// <summary>The range the in-process collector accepts dynamically.</summary>
    public const string SessionRange = "127.64.0.0/10";

    /// <summary>Session <paramref name="index"/>'s address in 127.64.0.0/10: hosts .1–.250 of consecutive /24s.</summary>
    public static IPAddress Session(int index)
    {
        int host = index % 250 + 1;
        int block = index / 250;
        return new IPAddress(new byte[] { 127, (byte)(64 + block / 256), (byte)(block % 256), (byte)host });
    }

    /// <summary>The full-table feeder's address; outside the session range so it never collides with it.</summary>
    public static readonly IPAddress Feeder = IPAddress.Parse("127.32.0.2");

    /// <summary>Full-table peer <paramref name="index"/> of <c>ribmemory</c>: 127.32.1.(index+1).</summary>
    public static IPAddress RibPeer(int index) => new(new byte[] { 127, 32, 1, (byte)(index + 1) });
}

/// <summary>Process memory as the kernel and the GC see it.</summary>
internal readonly record struct MemorySnapshot(long RssBytes, long GcHeapBytes, long GcCommittedBytes, long KernelTcpBytes, int TcpSockets)
{
    /// <summary>Collects garbage first (twice, with compaction), so that the GC heap is live data only.</summary>
    public static MemorySnapshot Take(bool collect = true)
    {
        if (collect)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var (tcpMem, tcpInUse) = ReadSockstat();
        return new MemorySnapshot(Rss(Environment.ProcessId), GC.GetTotalMemory(false), info.TotalCommittedBytes, tcpMem, tcpInUse);
    }

    /// <summary>VmRSS of a process from /proc, in bytes; -1 when unavailable.</summary>
    public static long Rss(int pid) => Status(pid, "VmRSS:");

    /// <summary>A kB field of /proc/PID/status (VmRSS, VmHWM: peak RSS), in bytes; -1 when unavailable.</summary>
    public static long Status(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
        }
        return -1;
    }

    /// <summary>Starts VmHWM afresh from the current RSS (Linux: 5 to /proc/PID/clear_refs); false when not allowed.</summary>
    public static bool ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>/proc/net/sockstat "TCP: inuse N ... mem P": the kernel's TCP buffer memory (pages) for the whole machine.</summary>
    private static (long Bytes, int InUse) ReadSockstat()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/net/sockstat"))
            {
                if (!line.StartsWith("TCP:", StringComparison.Ordinal)) continue;
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                long mem = 0;
                int inuse = 0;
                for (int i = 1; i + 1 < f.Length; i += 2)
                {
                    if (f[i] == "mem") mem = long.Parse(f[i + 1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
                    if (f[i] == "inuse") inuse = int.Parse(f[i + 1], CultureInfo.InvariantCulture);
                }
                return (mem, inuse);
            }
        }
        catch (IOException)
        {
        }
        return (-1, -1);
    }
}

/// <summary>Machine facts for result blocks.</summary>
internal static class Machine
{
    public static string LoadAverage()
    {
        try
        {
            var f = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{f[0]} {f[1]} {f[2]}";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static string Describe()
    {
        string cpu = "?";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        }
        catch (IOException)
        {
        }
        var gib = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores ({cpu}), {gib:F0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC";
    }

    public static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("F1", CultureInfo.InvariantCulture) + " MiB";

    public static string Bytes(double bytes) => bytes >= 10240
        ? (bytes / 1024).ToString("F1", CultureInfo.InvariantCulture) + " KiB"
        : bytes.ToString("F0", CultureInfo.InvariantCulture) + " B";
}

/// <summary>
/// Clean-up that must also happen when the run is interrupted: SIGINT/SIGTERM/SIGHUP (Ctrl-C, the
/// script's <c>timeout</c>) end a .NET process without running <c>finally</c> blocks, which would
/// leave BIRD or the peer process running and temporary directories behind.
/// </summary>
internal static class Cleanup
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, Action> Actions = new();
    private static long _next;
    private static readonly List<PosixSignalRegistration> Registrations = [];

    public static void InstallSignalHandlers()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            Registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                Console.Error.WriteLine($"loadgen: {context.Signal}: cleaning up");
                RunAll();
                context.Cancel = false;
            }));
        }
    }

    public static IDisposable Register(Action action)
    {
        long id = Interlocked.Increment(ref _next);
        Actions[id] = action;
        return new Registration(id);
    }

    private static void RunAll()
    {
        foreach (var id in Actions.Keys.Order().Reverse())
        {
            if (!Actions.TryRemove(id, out var action)) continue;
            try
            {
                action();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"loadgen: clean-up failed: {e.Message}");
            }
        }
    }

    private sealed class Registration(long id) : IDisposable
    {
        public void Dispose() => Actions.TryRemove(id, out _);
    }
}

/// <summary>A child process that is killed (with its descendants) on dispose or on a signal, whatever happened.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly IDisposable _cleanup;

    public ChildProcess(Process process)
    {
        Process = process;
        _cleanup = Cleanup.Register(Kill);
    }

    public Process Process { get; }

    public static ChildProcess Start(string file, IEnumerable<string> args, bool redirectStdin = false)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        return new ChildProcess(p);
    }

    private void Kill()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    public void Dispose()
    {
        _cleanup.Dispose();
        Kill();
        Process.Dispose();
    }
}

/// <summary>Minimal <c>--name value</c> / <c>--flag</c> parsing.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args)
    {
        string? pending = null;
        foreach (var a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                if (pending is not null) _values[pending] = null;
                int eq = a.IndexOf('=');
                if (eq > 0) { _values[a[2..eq]] = a[(eq + 1)..]; pending = null; }
                else pending = a[2..];
            }
            else if (pending is not null) { _values[pending] = a; pending = null; }
            else throw new ArgumentException($"unexpected argument '{a}'");
        }
        if (pending is not null) _values[pending] = null;
    }

    public bool Flag(string name) => _values.ContainsKey(name);
    public string? String(string name) => _values.GetValueOrDefault(name);
    public string String(string name, string fallback) => _values.GetValueOrDefault(name) ?? fallback;
    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) && v is not null ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public double Double(string name, double fallback) => _values.TryGetValue(name, out var v) && v is not null ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
