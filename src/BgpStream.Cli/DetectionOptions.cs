using System.Collections.Concurrent;
using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using BgpStream.Bgp;
using BgpStream.Detection;
using BgpStream.Detection.Culling;
using BgpStream.Detection.Stuck;
using BgpStream.Detection.Zombies;
using BgpStream.Pipeline;
using BgpStream.Session;

namespace BgpStream.Cli;

/// <summary>
/// The detectors <c>collect</c> and <c>replay</c> run (stuck sessions, zombie routes, culling),
/// <c>--lan</c>: which peering LAN a session belongs to, and <c>--beacon</c>: which prefixes are routing
/// beacons (judged by their schedule, DOMAIN.md "Zombie routes").
/// </summary>
internal sealed class DetectionOptions
{
    public Option<string[]> Lans { get; } = new("--lan") { Description = "A peering LAN, CIDR (repeatable): sessions from it are grouped for culling and stuck-session detection. Default: the connected subnet a session arrived on, else the /24 or /64 around the peer.", Arity = ArgumentArity.OneOrMore };
    public Option<bool> Off { get; } = new("--no-detect") { Description = "Run no detectors (no detection events)." };
    public Option<int> CullWindow { get; } = new("--cull-window") { Description = "Seconds within which sessions of one LAN going down count as one culling event (default 180, the largest common hold time).", DefaultValueFactory = _ => 180 };

    public Option<int> ZombieThreshold { get; } = new("--zombie-threshold") { Description = "Seconds a route may outlive its withdrawal by most of its carriers before it is a zombie (default 5400: 90 minutes, Fontugne et al.).", DefaultValueFactory = _ => 5400 };
    public Option<int?> SendQueueWarning { get; } = new("--send-queue-warning") { Description = "collect: seconds our send queue to a peer may stay non-empty without shrinking before a stuck_warning (default max(30, a quarter of the Send Hold Time))." };

    public Option<string[]> Beacons { get; } = new("--beacon") { Description = "A routing-beacon prefix (repeatable; RIPE RIS: 84.205.64.0/24 ... 84.205.95.0/24, 2001:7fb:fe00::/48 ...): its zombies are judged by the beacon schedule, not by withdrawal consensus.", Arity = ArgumentArity.OneOrMore };
    public Option<string> BeaconSchedule { get; } = new("--beacon-schedule") { Description = "When --beacon prefixes are announced and withdrawn: EVERY,UP[,OFFSET] with durations in s, m or h, announced at OFFSET + k x EVERY (UTC, from the epoch) and withdrawn UP later. Default 4h,2h,0: RIS beacons, announced every 4 h from 00:00 UTC, withdrawn 2 h later.", DefaultValueFactory = _ => "4h,2h,0" };

    public IEnumerable<Option> All => [Lans, Off, CullWindow, ZombieThreshold, SendQueueWarning, Beacons, BeaconSchedule];

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
        var beacons = new List<IpPrefix>();
        foreach (var text in result.GetValue(Beacons) ?? [])
        {
            // IPNetwork masks host bits away; a beacon written with them is more likely a typo than meant.
            int slash = text.IndexOf('/');
            if (slash < 1 || !IPNetwork.TryParse(text, out var prefix) || !IPAddress.TryParse(text.AsSpan(0, slash), out var address)
                || !address.Equals(prefix.BaseAddress))
            {
                Console.Error.WriteLine($"bgpstream {command}: --beacon '{text}' is not a prefix without host bits (84.205.64.0/24, 2001:7fb:fe00::/48)");
                return false;
            }
            beacons.Add(new IpPrefix(IpAddressValue.FromIPAddress(prefix.BaseAddress), (byte)prefix.PrefixLength));
        }
        if (!TryParseSchedule(result.GetValue(BeaconSchedule)!, out var schedule, out var scheduleError))
        {
            Console.Error.WriteLine($"bgpstream {command}: --beacon-schedule '{result.GetValue(BeaconSchedule)}': {scheduleError}");
            return false;
        }
        if (result.GetValue(Off)) return true;
        var lanOf = new LanMap(lans).LanOf;
        var stuck = new StuckOptions { LanOf = lanOf, LocalHoldTime = LocalHoldTime, SendHoldTime = SendHoldTime };
        if (result.GetValue(SendQueueWarning) is { } warnAfter)
            stuck = stuck with { QueueStallFloor = TimeSpan.FromSeconds(warnAfter), QueueStallFraction = 0 };
        detectors.Add(new StuckSessionDetector(stuck));
        detectors.Add(new ZombieDetector(new ZombieOptions
        {
            Threshold = TimeSpan.FromSeconds(result.GetValue(ZombieThreshold)),
            BeaconPrefixes = beacons,
            BeaconSchedule = schedule,
        }));
        detectors.Add(new CullingDetector(new CullingOptions { LanOf = lanOf, Window = TimeSpan.FromSeconds(result.GetValue(CullWindow)) }));
        return true;
    }

    /// <summary>
    /// <c>EVERY,UP[,OFFSET]</c>, each a whole number with s, m or h (OFFSET may be 0): EVERY &gt; 0,
    /// 0 &lt; UP &lt; EVERY (a beacon is down part of each cycle), 0 ≤ OFFSET &lt; EVERY.
    /// </summary>
    internal static bool TryParseSchedule(string text, out BeaconSchedule schedule, out string error)
    {
        schedule = BgpStream.Detection.Zombies.BeaconSchedule.Ris;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var spans = new TimeSpan[3];
        if (parts.Length is < 2 or > 3)
        {
            error = "give EVERY,UP[,OFFSET], e.g. 4h,2h (RIS) or 4h,2h,30m";
            return false;
        }
        for (int i = 0; i < parts.Length; i++)
        {
            if (!TryParseDuration(parts[i], out spans[i]))
            {
                error = $"'{parts[i]}' is not a duration: a whole number with s, m or h (30m, 4h)";
                return false;
            }
        }
        var (every, up, offset) = (spans[0], spans[1], spans[2]);
        if (every <= TimeSpan.Zero || up <= TimeSpan.Zero || up >= every)
        {
            error = "UP must be more than 0 and less than EVERY: a beacon is withdrawn for part of each cycle";
            return false;
        }
        if (offset >= every)
        {
            error = "OFFSET must be less than EVERY";
            return false;
        }
        schedule = new BeaconSchedule { Period = every, Up = up, Offset = offset };
        error = "";
        return true;
    }

    private static bool TryParseDuration(string text, out TimeSpan span)
    {
        span = TimeSpan.Zero;
        if (text == "0") return true;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out long n) || n > 1_000_000) return false;
        switch (text[^1])
        {
            case 's': span = TimeSpan.FromSeconds(n); return true;
            case 'm': span = TimeSpan.FromMinutes(n); return true;
            case 'h': span = TimeSpan.FromHours(n); return true;
            default: return false;
        }
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
