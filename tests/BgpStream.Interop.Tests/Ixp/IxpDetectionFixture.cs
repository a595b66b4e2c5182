using BgpStream.Interop.Tests.Helpers;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Ixp;

/// <summary>
/// The LAN of <see cref="IxpStuckAndZombieTests"/>: the four speakers announce the same routes (so that
/// one prefix has four carriers), a fifth member, <c>stuck</c>, hosts a peer that stops reading, and the
/// collector's thresholds are short: Send Hold Time 8 s, send-queue warning after 3 s, zombies after 5 s.
/// </summary>
public sealed class IxpDetectionFixture : IxpFixture
{
    /// <summary>RFC 9687 SendHoldTime; for the speakers (Hold Time 9 s) it becomes 10 s, as it must exceed the Hold Time (§3).</summary>
    public const int SendHoldTime = 8;
    public const int SendQueueWarning = 3;
    public const int ZombieThreshold = 5;
    /// <summary>The stuck peer's Hold Time: the smallest RFC 4271 §4.2 allows, so the collector sends a KEEPALIVE every second.</summary>
    public const int StuckPeerHoldTime = 3;

    public IxpMember StuckMember => Fabric["stuck"];

    protected override IReadOnlyList<string> ExtraMembers => ["stuck"];

    protected override IReadOnlyList<string> CollectorOptions =>
    [
        "--send-hold-time", $"{SendHoldTime}", "--send-queue-warning", $"{SendQueueWarning}", "--zombie-threshold", $"{ZombieThreshold}",
    ];

    /// <summary>The same three routes from every speaker.</summary>
    protected override RouteSet RoutesFor(int seed) => RouteSet.Generate(60, 2, 1);

    /// <summary>
    /// Starts Peers/stuck_peer.py in the <c>stuck</c> member: it completes the handshake with Hold Time
    /// <see cref="StuckPeerHoldTime"/>, keeps sending KEEPALIVEs and never reads again.
    /// </summary>
    public DaemonProcess StartStuckPeer(TempDirectory directory, uint asn)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Peers", "stuck_peer.py");
        return DaemonProcess.Start("stuck-peer", "python3",
            ["-u", script, StuckMember.Ipv4.ToString(), CollectorMember.Ipv4.ToString(), "179", $"{asn}", StuckMember.Ipv4.ToString(), $"{StuckPeerHoldTime}", "240"],
            directory.File("stuck-peer.log"), workingDirectory: directory.Path, networkNamespace: StuckMember.Namespace);
    }
}
