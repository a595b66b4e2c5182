using System.Globalization;
using BgpStream.Interop.Tests.Routes;

namespace BgpStream.Interop.Tests.Ixp;

/// <summary>The LAN of <see cref="IxpCullingTests"/>: each speaker with its own routes; culls grouped over 4 s.</summary>
public sealed class IxpCullingFixture : IxpFixture
{
    /// <summary>
    /// <c>--cull-window</c>: the downs of an involuntary cull spread over one KeepaliveTime (HoldTime/3
    /// = 3 s, RFC 4271 §10), as each session's Hold Timer runs from its own last KEEPALIVE; 4 s covers it.
    /// </summary>
    public const int CullWindow = 4;

    protected override IReadOnlyList<string> CollectorOptions => ["--cull-window", CullWindow.ToString(CultureInfo.InvariantCulture)];

    protected override RouteSet RoutesFor(int seed) => RouteSet.Generate(seed, 5, 3);
}
