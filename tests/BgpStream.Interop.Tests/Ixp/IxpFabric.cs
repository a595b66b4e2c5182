using System.Globalization;
using System.Net;
using BgpStream.Interop.Tests.Helpers;

namespace BgpStream.Interop.Tests.Ixp;

/// <summary>A member of the peering LAN: its namespace and its addresses on the LAN.</summary>
public sealed record IxpMember(string Name, string Namespace, IPAddress Ipv4, IPAddress Ipv6);

/// <summary>
/// An IXP in network namespaces: a fabric namespace holding a Linux bridge (the peering LAN) and one
/// namespace per member, joined to the bridge by a veth pair (<c>eth0</c> inside the member, the
/// member's namespace name on the bridge side). Member <c>i</c> (from 1) has 192.0.2.<c>i</c>/24 and
/// 2001:db8:179::<c>i</c>/64 (documentation prefixes, RFC 5737 / RFC 3849), IPv6 with <c>nodad</c>
/// so that it is usable at once. Namespace names are <c>bsx&lt;pid&gt;-&lt;n&gt;</c>: unique per test
/// host and within the 15 characters of an interface name. Each namespace is recorded with the
/// <see cref="Reaper"/> before it is created, so a dead test host leaks none.
/// </summary>
public sealed class IxpFabric : IAsyncDisposable
{
    public static readonly IPNetwork Lan4 = IPNetwork.Parse("192.0.2.0/24");
    public static readonly IPNetwork Lan6 = IPNetwork.Parse("2001:db8:179::/64");
    private const string Bridge = "lan0";
    /// <summary>The nftables table of <see cref="BlockBgpAsync"/> (bridge family).</summary>
    private const string CullTable = "bgpstream_cull";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private const int SIGKILL = 9;
    private static int _sequence;

    private readonly List<string> _namespaces = [];
    private readonly List<IxpMember> _members = [];
    private bool _disposed;

    private IxpFabric(string fabricNamespace) => FabricNamespace = fabricNamespace;

    public string FabricNamespace { get; }
    public IReadOnlyList<IxpMember> Members => _members;
    public bool IsBlocked { get; private set; }

    public IxpMember this[string name] => _members.Single(m => m.Name == name);

    /// <summary>Creates the fabric and one member per name, in order (the first gets .1 / ::1).</summary>
    public static async Task<IxpFabric> CreateAsync(IReadOnlyList<string> memberNames)
    {
        if (memberNames.Count is 0 or > 250) throw new ArgumentOutOfRangeException(nameof(memberNames));
        var fabric = new IxpFabric(NextName());
        try
        {
            await fabric.AddNamespaceAsync(fabric.FabricNamespace).ConfigureAwait(false);
            await fabric.IpAsync(fabric.FabricNamespace, "link", "set", "lo", "up").ConfigureAwait(false);
            await fabric.IpAsync(fabric.FabricNamespace, "link", "add", Bridge, "type", "bridge").ConfigureAwait(false);
            await fabric.IpAsync(fabric.FabricNamespace, "link", "set", Bridge, "up").ConfigureAwait(false);
            for (int i = 0; i < memberNames.Count; i++)
            {
                string ns = NextName();
                await fabric.AddNamespaceAsync(ns).ConfigureAwait(false);
                var member = new IxpMember(memberNames[i], ns,
                    IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"192.0.2.{i + 1}")),
                    IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"2001:db8:179::{i + 1:x}")));
                // The bridge-side end is named after the member's namespace (unique, ≤ 15 characters).
                await fabric.IpAsync(fabric.FabricNamespace, "link", "add", ns, "type", "veth", "peer", "name", "eth0", "netns", ns).ConfigureAwait(false);
                await fabric.IpAsync(fabric.FabricNamespace, "link", "set", ns, "master", Bridge, "up").ConfigureAwait(false);
                await fabric.IpAsync(ns, "link", "set", "lo", "up").ConfigureAwait(false);
                await fabric.IpAsync(ns, "addr", "add", $"{member.Ipv4}/24", "dev", "eth0").ConfigureAwait(false);
                await fabric.IpAsync(ns, "addr", "add", $"{member.Ipv6}/64", "dev", "eth0", "nodad").ConfigureAwait(false);
                await fabric.IpAsync(ns, "link", "set", "eth0", "up").ConfigureAwait(false);
                fabric._members.Add(member);
            }
            return fabric;
        }
        catch
        {
            await fabric.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string NextName() =>
        string.Create(CultureInfo.InvariantCulture, $"bsx{Environment.ProcessId}-{Interlocked.Increment(ref _sequence)}");

    private async Task AddNamespaceAsync(string name)
    {
        Reaper.TrackNamespace(name);
        _namespaces.Add(name);
        await ProcessRunner.RunAsync("ip", ["netns", "add", name], CommandTimeout).ConfigureAwait(false);
    }

    private Task<ProcessResult> IpAsync(string ns, params string[] arguments) =>
        ProcessRunner.RunAsync("ip", ["-n", ns, .. arguments], CommandTimeout);

    /// <summary><c>ip netns exec NS command…</c> in the member's namespace.</summary>
    public Task<ProcessResult> ExecAsync(IxpMember member, params string[] command) =>
        ExecAsync(member.Namespace, command);

    public Task<ProcessResult> ExecAsync(string ns, IReadOnlyList<string> command, TimeSpan? timeout = null, bool check = true) =>
        ProcessRunner.RunAsync("ip", ["netns", "exec", ns, .. command], timeout ?? CommandTimeout, check);

    /// <summary>
    /// Involuntary culling as draft-ietf-grow-bgp-session-culling (RFC 8327 §3.2) describes it: the
    /// fabric drops TCP to or from port 179 between addresses of the peering LAN, both families, both
    /// directions, while every other packet is still forwarded. Installed as one nftables transaction
    /// on the bridge's forward hook.
    /// </summary>
    public async Task BlockBgpAsync()
    {
        string v4 = Lan4.ToString(), v6 = Lan6.ToString();
        string rules = string.Join("; ",
            $"add table bridge {CullTable}",
            $"add chain bridge {CullTable} forward {{ type filter hook forward priority filter; policy accept; }}",
            $"add rule bridge {CullTable} forward ip saddr {v4} ip daddr {v4} tcp dport 179 drop",
            $"add rule bridge {CullTable} forward ip saddr {v4} ip daddr {v4} tcp sport 179 drop",
            $"add rule bridge {CullTable} forward ip6 saddr {v6} ip6 daddr {v6} tcp dport 179 drop",
            $"add rule bridge {CullTable} forward ip6 saddr {v6} ip6 daddr {v6} tcp sport 179 drop");
        await ExecAsync(FabricNamespace, ["nft", rules]).ConfigureAwait(false);
        IsBlocked = true;
    }

    /// <summary>Removes the filter of <see cref="BlockBgpAsync"/>.</summary>
    public async Task UnblockBgpAsync()
    {
        await ExecAsync(FabricNamespace, ["nft", $"delete table bridge {CullTable}"]).ConfigureAwait(false);
        IsBlocked = false;
    }

    /// <summary>The fabric's filter and bridge ports, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        var rules = await ExecAsync(FabricNamespace, ["nft", "list", "ruleset"], check: false).ConfigureAwait(false);
        var links = await IpAsyncUnchecked(FabricNamespace, "-br", "link").ConfigureAwait(false);
        return $"--- fabric {FabricNamespace} nft ruleset ---\n{rules.Stdout}{rules.Stderr}--- bridge ports ---\n{links.Stdout}";
    }

    private Task<ProcessResult> IpAsyncUnchecked(string ns, params string[] arguments) =>
        ProcessRunner.RunAsync("ip", ["-n", ns, .. arguments], CommandTimeout, check: false);

    /// <summary>
    /// Kills whatever still runs in the namespaces (a namespace lives on while a process is in it),
    /// then deletes them, members first; deleting a member's namespace deletes its veth pair.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            try
            {
                var pids = await ProcessRunner.RunAsync("ip", ["netns", "pids", ns], CommandTimeout, check: false).ConfigureAwait(false);
                foreach (var pid in pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (int.TryParse(pid, CultureInfo.InvariantCulture, out int p)) kill(p, SIGKILL);
                var del = await ProcessRunner.RunAsync("ip", ["netns", "del", ns], CommandTimeout, check: false).ConfigureAwait(false);
                // Otherwise the Reaper retries at host exit.
                if (del.ExitCode == 0) Reaper.UntrackNamespace(ns);
            }
            catch (ProcessFailedException)
            {
            }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
