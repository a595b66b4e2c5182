using System.Diagnostics;
using System.Runtime.InteropServices;

namespace BgpStream.Interop.Tests.Helpers;

/// <summary>
/// The safety net behind every fixture's DisposeAsync. Each process group, loopback address, network
/// namespace and temp directory a fixture creates is recorded under <c>/tmp/bgpstream-interop/&lt;test host pid&gt;/</c>:
/// <list type="bullet">
/// <item>on a normal exit of the test host, <see cref="AppDomain.ProcessExit"/> removes all of them;</item>
/// <item>if the host is killed, a detached watchdog shell notices within a second and does the same;</item>
/// <item>the next run also reaps registries whose host pid is gone (in case the watchdog died too).</item>
/// </list>
/// </summary>
public static class Reaper
{
    private const string Root = "/tmp/bgpstream-interop";
    private static readonly object Gate = new();
    private static string? _registry;

    private static string Registry
    {
        get
        {
            lock (Gate)
            {
                if (_registry is not null) return _registry;
                ReapStale();
                int pid = Environment.ProcessId;
                var dir = Path.Combine(Root, pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "cleanup.sh"), CleanupScript);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => CleanupNow(dir);
                StartWatchdog(pid, dir);
                _registry = dir;
                return dir;
            }
        }
    }

    // Kills recorded process groups, then whatever still runs in a recorded namespace (a namespace
    // outlives `ip netns del` while a process is inside it), deletes the namespaces, addresses and
    // directories, then the registry.
    private const string CleanupScript = """
        #!/bin/sh
        reg="$1"
        for f in "$reg"/pg.*; do [ -e "$f" ] && kill -KILL -- "-${f##*/pg.}" 2>/dev/null; done
        for f in "$reg"/ns.*; do [ -e "$f" ] && ip netns pids "$(cat "$f")" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; done
        for f in "$reg"/ns.*; do [ -e "$f" ] && ip netns del "$(cat "$f")" 2>/dev/null; done
        for f in "$reg"/addr.*; do [ -e "$f" ] && ip addr del $(cat "$f") dev lo 2>/dev/null; done
        for f in "$reg"/dir.*; do [ -e "$f" ] && rm -rf -- "$(cat "$f")"; done
        rm -rf -- "$reg"
        """;

    public static void TrackProcessGroup(int pgid) => Touch($"pg.{pgid}", "");
    public static void UntrackProcessGroup(int pgid) => Remove($"pg.{pgid}");
    public static void TrackAddress(string cidr) => Touch($"addr.{Key(cidr)}", cidr);
    public static void UntrackAddress(string cidr) => Remove($"addr.{Key(cidr)}");
    public static void TrackNamespace(string name) => Touch($"ns.{Key(name)}", name);
    public static void UntrackNamespace(string name) => Remove($"ns.{Key(name)}");
    public static void TrackDirectory(string path) => Touch($"dir.{Key(path)}", path);
    public static void UntrackDirectory(string path) => Remove($"dir.{Key(path)}");

    private static string Key(string s) => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(s)))[..16];

    private static void Touch(string name, string content) => File.WriteAllText(Path.Combine(Registry, name), content);

    private static void Remove(string name)
    {
        try { File.Delete(Path.Combine(Registry, name)); } catch (IOException) { }
    }

    private static void CleanupNow(string dir)
    {
        if (!Directory.Exists(dir)) return;
        try
        {
            using var p = Process.Start("/bin/sh", [Path.Combine(dir, "cleanup.sh"), dir]);
            p.WaitForExit(10_000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private static void StartWatchdog(int hostPid, string dir)
    {
        // setsid: the watchdog is not in the test host's process group, so it outlives a group kill.
        string script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {hostPid} 2>/dev/null; do sleep 1; done; [ -d '{dir}' ] && /bin/sh '{dir}/cleanup.sh' '{dir}'";
        var psi = new ProcessStartInfo("/usr/bin/setsid", ["/bin/sh", "-c", script])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi);
    }

    /// <summary>Cleans up after test hosts that died without running their handlers or watchdog.</summary>
    private static void ReapStale()
    {
        if (!Directory.Exists(Root)) return;
        foreach (var dir in Directory.GetDirectories(Root))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            if (kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM: alive */) continue;
            CleanupNow(dir);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
