using BgpStream.Bgp;

namespace BgpStream.Detection.Zombies;

/// <summary>A beacon's schedule: announced at <c>Offset + k·Period</c> (UTC), withdrawn <see cref="Up"/> later.</summary>
/// <remarks>
/// RIPE RIS beacons: announced every 4 hours at 00:00, 04:00, … UTC and withdrawn 2 hours later
/// (RIPE NCC, "RIS Routing Beacons"; Fontugne et al., PAM 2019 — DOMAIN.md "Zombie routes": up 2 h,
/// down 2 h).
/// </remarks>
public sealed record BeaconSchedule
{
    public TimeSpan Period { get; init; } = TimeSpan.FromHours(4);
    public TimeSpan Up { get; init; } = TimeSpan.FromHours(2);
    public TimeSpan Offset { get; init; } = TimeSpan.Zero;

    public static BeaconSchedule Ris { get; } = new();
}

/// <summary>Settings of <see cref="ZombieDetector"/>.</summary>
public sealed record ZombieOptions
{
    /// <summary>
    /// A route still present this long after its withdrawal is a zombie. 90 minutes: Fontugne et al.,
    /// "BGP Zombies" (PAM 2019, RIPE Labs), DOMAIN.md "Zombie routes".
    /// </summary>
    public TimeSpan Threshold { get; init; } = TimeSpan.FromMinutes(90);

    /// <summary>
    /// Withdrawal consensus: the share of the peers that carried the prefix in the episode that must
    /// have withdrawn it. DOMAIN.md: "when most peers that carried a prefix have withdrawn it"; ≥ 50 %.
    /// </summary>
    public double WithdrawnShare { get; init; } = 0.5;

    /// <summary>
    /// And at least this many peers: one peer's withdrawal is that peer's routing change, not the
    /// origin's withdrawal (our choice; with 2, a prefix seen by two peers can still be judged).
    /// </summary>
    public int MinWithdrawnPeers { get; init; } = 2;

    /// <summary>
    /// An episode that has not reached consensus is dropped this long after its last withdrawal.
    /// Withdrawals converge within minutes (path exploration); BCP 214 quotes up to ~15 min of
    /// convergence after a session loss, so 15 min.
    /// </summary>
    public TimeSpan EpisodeWindow { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>A zombie not cleared after this long stops being tracked (counted in <see cref="ZombieDetector.ZombiesExpired"/>); our choice.</summary>
    public TimeSpan MaxZombieAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Beacon prefixes (exact, masked); their zombies are judged by the schedule, not by consensus.</summary>
    public IReadOnlyList<IpPrefix> BeaconPrefixes { get; init; } = [];

    public BeaconSchedule BeaconSchedule { get; init; } = BeaconSchedule.Ris;

    /// <summary>
    /// IPv4 RIS beacons carry their announcement time in AGGREGATOR: address 10.x.y.z, x.y.z = seconds
    /// since the start of the month (UTC) (DOMAIN.md "Zombie routes").
    /// </summary>
    public bool DecodeAggregatorTime { get; init; } = true;

    /// <summary>Peers (address, AS) tracked; more are ignored and counted. RIS ≈1,300 sessions over ~21 collectors, DE-CIX ≈1,100 members (DOMAIN.md).</summary>
    public int MaxPeers { get; init; } = 4096;

    /// <summary>Prefixes whose carriers are tracked; more are ignored and counted. Full table ≈1.05 M IPv4 + 240 k IPv6 (DOMAIN.md), with room.</summary>
    public int MaxPrefixes { get; init; } = 4_000_000;

    /// <summary>Withdrawal episodes in progress (including reported zombies); more are ignored and counted.</summary>
    public int MaxEpisodes { get; init; } = 100_000;

    /// <summary>
    /// Rate limit over all prefixes: at most this many consensus <c>zombie_route</c> events per
    /// <see cref="ReportWindow"/>. Further zombies are tracked silently (their clearing is not reported
    /// either), counted in <see cref="ZombieDetector.SuppressedReports"/> and in the next reported one's
    /// evidence <c>suppressed_zombies</c>. Default 100 per 10 minutes (policy): enough to name every
    /// prefix of an ordinary outbreak one by one (Fontugne et al.: an average peer misses 1.8 % of IPv4
    /// withdrawals, DOMAIN.md), while a peer that keeps a whole table after the others withdrew it
    /// (≈1 M IPv4 routes) gives a hundred events and a count, not a million events.
    /// </summary>
    public int MaxReportsPerWindow { get; init; } = 100;

    /// <inheritdoc cref="MaxReportsPerWindow"/>
    public TimeSpan ReportWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Rate limit per prefix: after a <c>zombie_route</c> for a prefix, further episodes of it within this
    /// time are tracked silently and counted; the next one reported after it carries
    /// <c>suppressed_episodes</c>. Default 6 h (policy): four times the 90-minute threshold, so a prefix
    /// that turns zombie on every withdrawal cycle (a flapping prefix gives a route/cleared pair per cycle,
    /// at most one per 90 min) is reported at most four times a day. <see cref="TimeSpan.Zero"/> turns the
    /// rule off. RIS beacons are not subject to either limit: their schedule gives one report per beacon
    /// and cycle.
    /// </summary>
    public TimeSpan PrefixReportInterval { get; init; } = TimeSpan.FromHours(6);

    /// <summary>At most one overflow warning per this much record time per kind.</summary>
    public TimeSpan WarningInterval { get; init; } = TimeSpan.FromMinutes(1);
}
