using System.Globalization;
using System.Net;
using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Speakers;

/// <summary>
/// A real BGP daemon on loopback that actively peers with a passive collector. Each instance owns a
/// temp directory (config, control socket, logs), the processes it starts and any IPv6 loopback
/// addresses it adds; <see cref="DisposeAsync"/> removes all of them, and the <see cref="Reaper"/>
/// does so if the test host dies first.
/// </summary>
public abstract class BgpSpeaker : IAsyncDisposable
{
    private readonly List<DaemonProcess> _daemons = [];
    private readonly List<LoopbackAddress> _addresses = [];
    private bool _disposed;

    protected BgpSpeaker(string name, SpeakerOptions options)
    {
        Name = name;
        Options = options;
        CheckOptions();
        Directory = new TempDirectory(name);
    }

    public string Name { get; }
    public SpeakerOptions Options { get; }
    public abstract SpeakerFeatures Features { get; }
    protected TempDirectory Directory { get; }
    public string WorkDirectory => Directory.Path;

    /// <summary>Executables the fixture needs; a missing one fails the test with a pointer to scripts/setup.sh --tests.</summary>
    protected abstract IReadOnlyList<string> RequiredExecutables { get; }

    /// <summary>Writes the config, starts the daemon and waits until it runs with all routes loaded.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var missing = RequiredExecutables.Where(e => ProcessRunner.Which(e) is null).ToArray();
        if (missing.Length > 0)
            throw new InvalidOperationException($"{Name}: {string.Join(", ", missing)} not installed; run scripts/setup.sh --tests (as root) first.");
        // In a namespace the addresses are the member's own, on its veth (Ixp/IxpFabric).
        if (Options.Namespace is null)
        {
            _addresses.Add(await LoopbackAddress.EnsureAsync(Options.LocalAddress).ConfigureAwait(false));
            // The other family's next hop exists on lo as well, in case a daemon checks it is local.
            if (!Options.IsIPv6Transport) _addresses.Add(await LoopbackAddress.EnsureAsync(Options.NextHop6).ConfigureAwait(false));
        }
        await StartCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    protected abstract Task StartCoreAsync(CancellationToken cancellationToken);

    /// <summary>Asks the daemon's own CLI whether the session to the collector is Established.</summary>
    public abstract Task<bool> IsEstablishedAsync(CancellationToken cancellationToken = default);

    public Task WaitEstablishedAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ProcessRunner.WaitUntilAsync(async () =>
            {
                ThrowIfAnyExited();
                return await IsEstablishedAsync(cancellationToken).ConfigureAwait(false);
            }, timeout, DescribeAsync, TimeSpan.FromMilliseconds(300), cancellationToken);

    /// <summary>What the daemon says it has exported to the collector, parsed from its CLI/JSON.</summary>
    public abstract Task<IReadOnlyList<BgpRoute>> GetExportedRoutesAsync(CancellationToken cancellationToken = default);

    /// <summary>What the fixture expects the daemon to export given <see cref="SpeakerOptions.Routes"/>.</summary>
    public virtual IReadOnlyList<BgpRoute> ExpectedExportedRoutes() =>
        RoutesToOriginate().Select(r => RouteSet.ExpectedExport(r, Options.LocalAs, Options.NextHop(r.IsIPv6).ToString())).ToArray();

    /// <summary>Primary paths, plus the alternates when ADD-PATH send is on and the daemon can hold them.</summary>
    protected IEnumerable<GeneratedRoute> RoutesToOriginate() =>
        Options.Routes.All.Where(r => r.PathIndex == 0 || (Options.AddPathSend && Features.MultiplePathsPerPrefix));

    /// <summary>Removes every route so that the daemon sends withdrawals (the session stays up).</summary>
    public abstract Task WithdrawAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Administrative shutdown of the session with an RFC 8203/9003 Shutdown Communication.</summary>
    public abstract Task ShutdownAsync(string text, CancellationToken cancellationToken = default);

    /// <summary>Undoes <see cref="ShutdownAsync"/>: the session may come up again.</summary>
    public virtual Task EnableAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{Name}: no re-enable after a shutdown in this fixture.");

    /// <summary>SIGSTOP every process of the daemon: it stops sending KEEPALIVEs and the collector's Hold Timer expires.</summary>
    public void Freeze()
    {
        foreach (var d in _daemons) d.Freeze();
    }

    public void Thaw()
    {
        foreach (var d in _daemons) d.Thaw();
    }

    /// <summary>Daemon state for failure messages: the session summary and the daemon's last output.</summary>
    public virtual async Task<string> DescribeAsync()
    {
        var sb = new System.Text.StringBuilder();
        try
        {
            sb.AppendLine(await DescribeSessionAsync(CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is ProcessFailedException or InvalidOperationException)
        {
            sb.AppendLine($"(session state unavailable: {ex.Message})");
        }
        foreach (var d in _daemons) sb.AppendLine($"--- {d.Name} output (last lines) ---").AppendLine(d.OutputTail);
        return sb.ToString();
    }

    protected abstract Task<string> DescribeSessionAsync(CancellationToken cancellationToken);

    protected DaemonProcess StartDaemon(string name, string fileName, IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var d = DaemonProcess.Start($"{Name}/{name}", fileName, arguments, Directory.File($"{name}.log"), environment, Directory.Path,
            Options.Namespace);
        _daemons.Add(d);
        return d;
    }

    protected void ThrowIfAnyExited()
    {
        foreach (var d in _daemons) d.ThrowIfExited();
    }

    /// <summary>
    /// Runs a CLI command of this daemon; failures carry the daemon's output too. In a namespace it
    /// runs there as well: gRPC over TCP localhost is per namespace (Unix sockets are not, but every
    /// command is wrapped alike).
    /// </summary>
    protected async Task<ProcessResult> CliAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan? timeout = null,
        bool check = true, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        if (Options.Namespace is { } ns)
        {
            arguments = ["netns", "exec", ns, ProcessRunner.Which(fileName) ?? fileName, .. arguments];
            fileName = "ip";
        }
        try
        {
            return await ProcessRunner.RunAsync(fileName, arguments, timeout ?? ProcessRunner.DefaultTimeout, check, environment,
                Directory.Path, cancellationToken).ConfigureAwait(false);
        }
        catch (ProcessFailedException ex)
        {
            var tails = string.Join('\n', _daemons.Select(d => $"--- {d.Name} output (last lines) ---\n{d.OutputTail}"));
            throw new ProcessFailedException($"{Name}: {ex.Message}\n{tails}", ex.Result, ex);
        }
    }

    protected Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProcessRunner.WaitUntilAsync(async () =>
        {
            ThrowIfAnyExited();
            return await condition().ConfigureAwait(false);
        }, timeout, DescribeAsync, TimeSpan.FromMilliseconds(300), cancellationToken);

    private void CheckOptions()
    {
        var f = Features;
        if (Options.CollectorPort != 179 && !f.CustomPort)
            throw new NotSupportedException($"{Name} can only connect to port 179; let the collector listen on 179 at a distinct 127.x address.");
        if (Options.IsIPv6Transport && !f.Ipv6Transport) throw new NotSupportedException($"{Name}: no IPv6 transport in this fixture.");
        if (Options.Md5Password is not null && !f.Md5) throw new NotSupportedException($"{Name}: TCP-MD5 not supported.");
        if (Options.AddPathSend && !f.AddPathSend) throw new NotSupportedException($"{Name}: ADD-PATH send not supported.");
        if (Options.ExtendedMessage && !f.ExtendedMessage) throw new NotSupportedException($"{Name}: extended messages (RFC 8654) not supported.");
    }

    protected static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The collector's address as the daemon prints it.</summary>
    protected string Collector => Options.CollectorAddress.ToString();

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var d in _daemons)
        {
            try { d.Dispose(); } catch (Exception ex) when (ex is InvalidOperationException or IOException) { }
        }
        foreach (var a in _addresses)
        {
            try { await a.DisposeAsync().ConfigureAwait(false); } catch (ProcessFailedException) { }
        }
        Directory.Dispose();
        GC.SuppressFinalize(this);
    }
}
