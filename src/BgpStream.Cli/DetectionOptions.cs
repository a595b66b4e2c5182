using System.Collections.Concurrent;
using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using BgpStream.Detection;
using BgpStream.Detection.Culling;
using BgpStream.Detection.Stuck;
using BgpStream.Detection.Zombies;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Cli;

/// <summary>
/// The detectors <c>collect</c> and <c>replay</c> run (stuck sessions, zombie routes, culling), and
/// <c>--lan</c>: which peering LAN a session belongs to.
/// </summary>
internal sealed class DetectionOptions
{
    public Option<string[]> Lans { get; } = new("--lan") { Description = "A peering LAN, CIDR (repeatable): sessions from it are grouped for culling and stuck-session detection. Default: the connected subnet a session arrived on, else the /24 or /64 around the peer.", Arity = ArgumentArity.OneOrMore };
    public Option<bool> Off { get; } = new("--no-detect") { Description = "Run no detectors (no detection events)." };
    public Option<int> CullWindow { get; } = new("--cull-window") { Description = "Seconds within which sessions of one LAN going down count as one culling event (default 180, the largest common hold time).", DefaultValueFactory = _ => 180 };

    public Option<int> ZombieThreshold { get; } = new("--zombie-threshold") { Description = "Seconds a route may outlive its withdrawal by most of its carriers before it is a zombie (default 5400: 90 minutes, Fontugne et al.).", DefaultValueFactory = _ => 5400 };
    public Option<int?> SendQueueWarning { get; } = new("--send-queue-warning") { Description = "collect: seconds our send queue to a peer may stay non-empty without shrinking before a stuck_warning (default max(30, a quarter of the Send Hold Time))." };

    public IEnumerable<Option> All => [Lans, Off, CullWindow, ZombieThreshold, SendQueueWarning];

    /// <summary>collect: the Hold Time we offer and our Send Hold Time (RFC 9687), for the stuck-session rules; replay keeps the RFC defaults.</summary>
    public TimeSpan LocalHoldTime { get; set; } = TimeSpan.FromSeconds(90);
    public TimeSpan? SendHoldTime { get; set; }

    /// <summary>The detectors, or none with --no-detect; false (message on stderr) for a bad --lan.</summary>
    public bool TryBuild(ParseResult result, string command, out List<IDetector> detectors)
    {
        detectors = [];
        var lans = new List<IPNetwork>();
        foreach (var text in result.GetValue(Lans) ?? [])
        {
            if (!IPNetwork.TryParse(text, out var lan))
            {
                Console.Error.WriteLine($"bgpstream {command}: --lan '{text}' is not a CIDR prefix (192.0.2.0/24, 2001:db8::/64)");
                return false;
            }
            lans.Add(lan);
        }
        if (result.GetValue(CullWindow) < 1)
        {
            Console.Error.WriteLine($"bgpstream {command}: --cull-window is at least 1 second");
            return false;
        }
        if (result.GetValue(ZombieThreshold) < 1)
        {
            Console.Error.WriteLine($"bgpstream {command}: --zombie-threshold is at least 1 second");
            return false;
        }
        if (result.GetValue(SendQueueWarning) is < 1)
        {
            Console.Error.WriteLine($"bgpstream {command}: --send-queue-warning is at least 1 second");
            return false;
        }
        if (result.GetValue(Off)) return true;
        var lanOf = new LanMap(lans).LanOf;
        var stuck = new StuckOptions { LanOf = lanOf, LocalHoldTime = LocalHoldTime, SendHoldTime = SendHoldTime };
        if (result.GetValue(SendQueueWarning) is { } warnAfter)
            stuck = stuck with { QueueStallFloor = TimeSpan.FromSeconds(warnAfter), QueueStallFraction = 0 };
        detectors.Add(new StuckSessionDetector(stuck));
        detectors.Add(new ZombieDetector(new ZombieOptions { Threshold = TimeSpan.FromSeconds(result.GetValue(ZombieThreshold)) }));
        detectors.Add(new CullingDetector(new CullingOptions { LanOf = lanOf, Window = TimeSpan.FromSeconds(result.GetValue(CullWindow)) }));
        return true;
    }

    /// <summary>A session's LAN: the first --lan holding the peer, else the connected subnet of our local address when it holds the peer, else the /24 or /64 around the peer.</summary>
    private sealed class LanMap(List<IPNetwork> configured)
    {
        private readonly ConcurrentDictionary<IPAddress, IPNetwork?> _connected = new();

        public IPNetwork? LanOf(SessionInfo session)
        {
            var peer = session.PeerAddress;
            foreach (var lan in configured)
                if (lan.Contains(peer)) return lan;
            var local = session.Local.Address.IsIPv4MappedToIPv6 ? session.Local.Address.MapToIPv4() : session.Local.Address;
            if (_connected.GetOrAdd(local, Connected) is { } subnet && subnet.Contains(peer)) return subnet;
            // A replay (no interface holds the archive's address) or a multihop peer: the /24 or /64 around it.
            return PeeringLan.Default(session);
        }

        private static IPNetwork? Connected(IPAddress local)
        {
            try
            {
                foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var address in nic.GetIPProperties().UnicastAddresses)
                    if (address.Address.Equals(local) && address.PrefixLength > 0)
                        return PeeringLan.Around(address.Address, address.PrefixLength);
            }
            catch (NetworkInformationException)
            {
            }
            return null;
        }
    }
}
