using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using BgpStream.Interop.Tests.Helpers;

namespace BgpStream.Interop.Tests.Ixp;

/// <summary>A JSON line of <c>collect --stdout</c> and when the test read it.</summary>
public sealed record CollectorLine(int Index, DateTimeOffset ReceivedAt, JsonElement Json)
{
    public string Type => Json.GetProperty("type").GetString()!;
    public override string ToString() => Json.GetRawText();
}

/// <summary>
/// The real <c>bgpstream collect</c> executable (<c>dotnet bgpstream.dll</c>) in a member's namespace,
/// started as <c>setsid ip netns exec NS dotnet …</c> so that its process group can be killed whole.
/// Its stdout JSON lines are parsed as they come; stderr (its log) is kept as a bounded tail.
/// </summary>
public sealed class CollectorProcess : IDisposable
{
    private const int StderrTailLines = 300;
    private const int MaxLines = 200_000;

    private readonly Process _process;
    private readonly List<CollectorLine> _lines = [];
    private readonly Queue<string> _stderr = new();
    private readonly TempDirectory _directory;
    private bool _killed;

    private CollectorProcess(Process process, TempDirectory directory)
    {
        _process = process;
        _directory = directory;
    }

    public int ProcessGroupId => _process.Id;
    public bool HasExited => _process.HasExited;

    public string StderrTail
    {
        get { lock (_stderr) return string.Join('\n', _stderr); }
    }

    /// <summary>Lines read so far: a cursor for "after this point" waits.</summary>
    public int LineCount
    {
        get { lock (_lines) return _lines.Count; }
    }

    /// <summary>Starts <c>collect</c> with <paramref name="arguments"/>, in <paramref name="ns"/>, its files in a temp dir.</summary>
    public static CollectorProcess Start(string ns, IReadOnlyList<string> arguments)
    {
        var directory = new TempDirectory("ixp-collector");
        string dotnet = ProcessRunner.Which("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH");
        var psi = ProcessRunner.CreateStartInfo("/usr/bin/setsid",
            ["/usr/sbin/ip", "netns", "exec", ns, dotnet, CliPath(), "collect", "--out", directory.File("out"), .. arguments],
            null, directory.Path);
        var process = new Process { StartInfo = psi };
        var collector = new CollectorProcess(process, directory);
        process.OutputDataReceived += (_, e) => collector.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => collector.OnStderr(e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            directory.Dispose();
            throw;
        }
        Reaper.TrackProcessGroup(process.Id);
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return collector;
    }

    /// <summary>tests/BgpStream.Interop.Tests/bin/&lt;Configuration&gt;/net10.0 → src/BgpStream.Cli/bin/&lt;Configuration&gt;/net10.0/bgpstream.dll.</summary>
    private static string CliPath()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string configuration = here.Parent!.Name;
        var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "src", "BgpStream.Cli", "bin", configuration, "net10.0", "bgpstream.dll");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: build src/BgpStream.Cli -c {configuration} first (scripts/test.sh does)");
        return path;
    }

    private void OnStdout(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException)
        {
            OnStderr($"(stdout, not JSON) {line}");
            return;
        }
        lock (_lines)
        {
            if (_lines.Count < MaxLines) _lines.Add(new CollectorLine(_lines.Count, DateTimeOffset.UtcNow, json));
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null) return;
        lock (_stderr)
        {
            _stderr.Enqueue(line);
            while (_stderr.Count > StderrTailLines) _stderr.Dequeue();
        }
    }

    /// <summary>Lines from index <paramref name="from"/> on that match.</summary>
    public IReadOnlyList<CollectorLine> Lines(int from = 0, Func<CollectorLine, bool>? match = null)
    {
        lock (_lines) return _lines.Skip(from).Where(l => match is null || match(l)).ToList();
    }

    /// <summary>
    /// Waits until a line from index <paramref name="from"/> on matches; throws with the collector's
    /// stderr and <paramref name="describe"/>'s text (the speakers, the fabric) on timeout or exit.
    /// </summary>
    public async Task<CollectorLine> WaitForAsync(Func<CollectorLine, bool> match, int from, TimeSpan timeout, string what,
        Func<Task<string>> describe)
    {
        CollectorLine? found = null;
        try
        {
            await ProcessRunner.WaitUntilAsync(() =>
            {
                if (HasExited) throw new InvalidOperationException($"collector exited with code {_process.ExitCode}");
                found = Lines(from, match).FirstOrDefault();
                return Task.FromResult(found is not null);
            }, timeout, async () => $"{what}\n{await describe().ConfigureAwait(false)}\n{Describe()}", TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException($"{ex.Message} while waiting for {what}\n{await describe().ConfigureAwait(false)}\n{Describe()}");
        }
        return found!;
    }

    /// <summary>Waits until the collector's log (stderr) has a line containing <paramref name="text"/>.</summary>
    public Task WaitForLogAsync(string text, TimeSpan timeout) =>
        ProcessRunner.WaitUntilAsync(() =>
        {
            if (HasExited) throw new InvalidOperationException($"collector exited with code {_process.ExitCode}:\n{StderrTail}");
            lock (_stderr) return Task.FromResult(_stderr.Any(l => l.Contains(text, StringComparison.Ordinal)));
        }, timeout, () => Task.FromResult($"collector log line \"{text}\"\n{Describe()}"), TimeSpan.FromMilliseconds(100));

    /// <summary>The collector's state changes and detection events so far, and its log tail, for failure messages.</summary>
    public string Describe()
    {
        var notable = Lines(0, l => l.Type != "A" && l.Type != "W").TakeLast(60);
        return $"--- collector stdout (state changes and events, last 60) ---\n{string.Join('\n', notable)}\n"
               + $"--- collector stderr (last lines) ---\n{StderrTail}";
    }

    /// <summary>SIGKILL to the process group (dotnet and anything it started).</summary>
    public void Kill()
    {
        if (_killed) return;
        _killed = true;
        DaemonProcess.KillGroup(_process);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        _directory.Dispose();
    }

}
