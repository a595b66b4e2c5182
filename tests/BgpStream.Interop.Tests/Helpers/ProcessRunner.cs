using System.Diagnostics;
using System.Text;

namespace BgpStream.Interop.Tests.Helpers;

/// <summary>What a finished command printed, with how long it took.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"`{CommandLine}` exited {ExitCode} after {Elapsed.TotalSeconds:F1}s\n--- stdout ---\n{Tail(Stdout)}\n--- stderr ---\n{Tail(Stderr)}";

    internal static string Tail(string text, int max = 4000) => text.Length <= max ? text : "…" + text[^max..];
}

/// <summary>A command failed, timed out, or could not start; the message carries what it printed.</summary>
public sealed class ProcessFailedException(string message, ProcessResult? result = null, Exception? inner = null)
    : Exception(result is null ? message : $"{message}\n{result}", inner)
{
    public ProcessResult? Result { get; } = result;
}

/// <summary>
/// Runs CLI commands (birdc, vtysh, gobgp, bgpctl, ...) with a bound on every wait. A command that
/// outlives its timeout is killed with its whole process tree and reported with its output so far.
/// </summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static Task<ProcessResult> RunAsync(string fileName, params string[] arguments) =>
        RunAsync(fileName, arguments, DefaultTimeout);

    public static async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        bool check = true, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null,
        CancellationToken cancellationToken = default)
    {
        var psi = CreateStartInfo(fileName, arguments, environment, workingDirectory);
        string commandLine = CommandLine(fileName, arguments);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (Exception ex)
        {
            throw new ProcessFailedException($"could not start `{commandLine}`: {ex.Message} (run scripts/setup.sh --tests?)", null, ex);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(2000);
            var partial = Snapshot(commandLine, -1, stdout, stderr, watch.Elapsed);
            throw new ProcessFailedException(cancellationToken.IsCancellationRequested
                ? $"`{commandLine}` cancelled" : $"`{commandLine}` timed out after {timeout.TotalSeconds:F0}s", partial);
        }
        // WaitForExitAsync returns after the redirected streams reach EOF, so the buffers are complete.
        var result = Snapshot(commandLine, process.ExitCode, stdout, stderr, watch.Elapsed);
        if (check && result.ExitCode != 0) throw new ProcessFailedException($"`{commandLine}` failed", result);
        return result;
    }

    internal static ProcessStartInfo CreateStartInfo(string fileName, IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        return psi;
    }

    internal static string CommandLine(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { fileName }.Concat(arguments.Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a)));

    private static ProcessResult Snapshot(string commandLine, int exitCode, StringBuilder stdout, StringBuilder stderr, TimeSpan elapsed)
    {
        string o, e;
        lock (stdout) o = stdout.ToString();
        lock (stderr) e = stderr.ToString();
        return new ProcessResult(commandLine, exitCode, o, e, elapsed);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; throws with <paramref name="describe"/>'s text on timeout.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describe,
        TimeSpan? interval = null, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition().ConfigureAwait(false)) return;
                last = null;
            }
            catch (ProcessFailedException ex)
            {
                last = ex;
            }
            if (deadline.Elapsed >= timeout)
            {
                string state;
                try { state = await describe().ConfigureAwait(false); }
                catch (Exception ex) { state = $"(could not describe state: {ex.Message})"; }
                throw new TimeoutException($"condition not met within {timeout.TotalSeconds:F0}s: {state}", last);
            }
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether an executable exists on PATH (or at an absolute path).</summary>
    public static string? Which(string name)
    {
        if (Path.IsPathRooted(name)) return File.Exists(name) ? name : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
                     .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib/frr"]))
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }
}
