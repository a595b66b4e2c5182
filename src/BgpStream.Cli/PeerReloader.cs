using System.Runtime.InteropServices;
using BgpStream.Session;
using Microsoft.Extensions.Logging;

namespace BgpStream.Cli;

/// <summary>
/// Reloads the collector's peer list from its configuration file on SIGHUP or when the file changes
/// (issue 6): the file's peers plus the command line's <c>--peer</c>s, as at start. A file with a
/// mistake is logged with its file, line and key, and the running list stays.
/// </summary>
internal sealed class PeerReloader : IDisposable
{
    /// <summary>Editors write a file in several steps (truncate, write, rename): wait for it to settle.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);

    private readonly Collector _collector;
    private readonly string _path;
    private readonly IReadOnlyList<PeerConfig> _commandLinePeers;
    private readonly ILogger _log;
    private readonly PosixSignalRegistration _hangup;
    private readonly FileSystemWatcher? _watcher;
    private readonly object _gate = new();
    private Timer? _pending;

    public PeerReloader(Collector collector, string path, IReadOnlyList<PeerConfig> commandLinePeers, ILogger log)
    {
        _collector = collector;
        _path = Path.GetFullPath(path);
        _commandLinePeers = commandLinePeers;
        _log = log;
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            // Handled: SIGHUP must not terminate the process.
            context.Cancel = true;
            _log.LogInformation("SIGHUP: reloading the peers of {Path}", _path);
            Schedule(TimeSpan.Zero);
        });
        try
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size,
            };
            _watcher.Changed += (_, _) => Schedule(Settle);
            _watcher.Created += (_, _) => Schedule(Settle);
            _watcher.Renamed += (_, _) => Schedule(Settle);
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // inotify limits reached, or the directory is gone: SIGHUP still works.
            _log.LogWarning("not watching {Path} for changes ({Error}); send SIGHUP to reload", _path, e.Message);
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    /// <summary>Reloads now (also what SIGHUP and file changes end in); false when the file has a mistake.</summary>
    public bool Reload()
    {
        CollectorConfigFile file;
        try
        {
            file = CollectorConfigFile.Load(_path);
        }
        catch (ConfigException e)
        {
            _log.LogError("reload: {Error}; the running peer list stays", e.Message);
            return false;
        }
        try
        {
            _collector.ReloadPeers([.. file.Peers, .. _commandLinePeers]);
            return true;
        }
        catch (ArgumentException e)
        {
            _log.LogError("reload: {Path}: {Error}; the running peer list stays", _path, e.Message);
            return false;
        }
    }

    private void Schedule(TimeSpan delay)
    {
        lock (_gate)
        {
            _pending?.Dispose();
            _pending = new Timer(_ =>
            {
                lock (_gate) Reload();
            }, null, delay, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _hangup.Dispose();
        _watcher?.Dispose();
        lock (_gate) _pending?.Dispose();
    }
}
