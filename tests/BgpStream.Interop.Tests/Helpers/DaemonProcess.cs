using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace BgpStream.Interop.Tests.Helpers;

/// <summary>
/// A long-running daemon started in its own session (<c>setsid</c>), so that its process group id
/// is its pid and signals reach every process it forks (OpenBGPD's engines, FRR's threads, ExaBGP's
/// API helpers). Output goes to a log file and a bounded in-memory tail for error messages.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private const int SIGKILL = 9, SIGCONT = 18, SIGSTOP = 19;
    private const int TailLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly StreamWriter _log;
    private bool _killed;

    private DaemonProcess(string name, Process process, StreamWriter log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }
    public int ProcessGroupId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the daemon printed (stdout and stderr interleaved).</summary>
    public string OutputTail
    {
        get { lock (_tail) return string.Join('\n', _tail); }
    }

    /// <param name="networkNamespace">
    /// Run inside this namespace: <c>setsid ip netns exec NS daemon …</c>. <c>ip netns exec</c> execs
    /// in place, so the daemon keeps setsid's pid and is still its process group's leader.
    /// </param>
    public static DaemonProcess Start(string name, string fileName, IReadOnlyList<string> arguments, string logPath,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, string? networkNamespace = null)
    {
        if (ProcessRunner.Which(fileName) is not { } path)
            throw new ProcessFailedException($"{name}: `{fileName}` is not installed; run scripts/setup.sh --tests");
        IReadOnlyList<string> command = networkNamespace is null ? [path, .. arguments] : ["/usr/sbin/ip", "netns", "exec", networkNamespace, path, .. arguments];
        var psi = ProcessRunner.CreateStartInfo("/usr/bin/setsid", command, environment, workingDirectory);
        var process = new Process { StartInfo = psi };
        var log = new StreamWriter(logPath, append: true, new UTF8Encoding(false)) { AutoFlush = true };
        var daemon = new DaemonProcess(name, process, log);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            log.Dispose();
            throw new ProcessFailedException($"{name}: could not start `{ProcessRunner.CommandLine(path, arguments)}`: {ex.Message}", null, ex);
        }
        Reaper.TrackProcessGroup(process.Id);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines) _tail.Dequeue();
            try { _log.WriteLine(line); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Throws with the daemon's output if it has exited (a config error, a bind failure).</summary>
    public void ThrowIfExited()
    {
        if (!_process.HasExited) return;
        _process.WaitForExit(1000);
        throw new ProcessFailedException($"{Name} exited with code {_process.ExitCode}:\n{OutputTail}");
    }

    /// <summary>SIGSTOP to the whole process group: the daemon sends nothing, so its peer's Hold Timer runs out.</summary>
    public void Freeze() => Signal(SIGSTOP);

    public void Thaw() => Signal(SIGCONT);

    private void Signal(int signal)
    {
        if (kill(-ProcessGroupId, signal) != 0)
            throw new InvalidOperationException($"{Name}: kill(-{ProcessGroupId}, {signal}) failed, errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGKILL to the process group (works on a frozen group too), then reap.</summary>
    public void Kill()
    {
        if (_killed) return;
        _killed = true;
        KillGroup(_process);
    }

    /// <summary>SIGKILL to the process group <paramref name="leader"/> leads (started under setsid), then reap and untrack it.</summary>
    internal static void KillGroup(Process leader)
    {
        kill(-leader.Id, SIGKILL);
        try { leader.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        leader.WaitForExit(5000);
        Reaper.UntrackProcessGroup(leader.Id);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        lock (_tail) _log.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
