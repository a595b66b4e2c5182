using System.Globalization;

namespace BgpStream.Interop.Tests.Routes;

/// <summary>
/// One exported (or received) path, normalised so that a daemon's CLI/JSON view and the bytes on
/// the wire compare equal: prefix in canonical text, AS path bgpdump style ("65001 64512 {1,2}"),
/// ORIGIN as IGP/EGP/INCOMPLETE, communities sorted numerically, extended communities as the raw
/// 8 octets in 16 lowercase hex digits.
/// </summary>
public sealed record BgpRoute(
    string Prefix,
    uint PathId,
    string AsPath,
    string NextHop,
    string Origin,
    uint? Med,
    IReadOnlyList<string> Communities,
    IReadOnlyList<string> LargeCommunities,
    IReadOnlyList<string> ExtCommunities)
{
    public bool IsIPv6 => Prefix.Contains(':', StringComparison.Ordinal);

    /// <summary>The same route with path id 0, for comparing where one side cannot show path ids.</summary>
    public BgpRoute WithoutPathId() => PathId == 0 ? this : this with { PathId = 0 };

    public bool Equals(BgpRoute? other) =>
        other is not null && Prefix == other.Prefix && PathId == other.PathId && AsPath == other.AsPath && NextHop == other.NextHop &&
        Origin == other.Origin && Med == other.Med && Communities.SequenceEqual(other.Communities) &&
        LargeCommunities.SequenceEqual(other.LargeCommunities) && ExtCommunities.SequenceEqual(other.ExtCommunities);

    public override int GetHashCode() => HashCode.Combine(Prefix, PathId, AsPath, NextHop, Origin, Med, Communities.Count, ExtCommunities.Count);

    public override string ToString() =>
        $"{Prefix}{(PathId != 0 ? $" id {PathId}" : "")} path [{AsPath}] nh {NextHop} {Origin}{(Med is { } m ? $" med {m}" : "")}" +
        $" comm [{string.Join(' ', Communities)}] large [{string.Join(' ', LargeCommunities)}] ext [{string.Join(' ', ExtCommunities)}]";

    public static string OriginName(int origin) => origin switch { 0 => "IGP", 1 => "EGP", 2 => "INCOMPLETE", _ => $"ORIGIN({origin})" };

    public static IReadOnlyList<string> SortCommunities(IEnumerable<uint> values) =>
        values.Distinct().Order().Select(FormatCommunity).ToArray();

    public static string FormatCommunity(uint v) => string.Create(CultureInfo.InvariantCulture, $"{v >> 16}:{v & 0xFFFF}");

    public static uint ParseCommunity(string text)
    {
        var parts = text.Split(':');
        return (uint.Parse(parts[0], CultureInfo.InvariantCulture) << 16) | uint.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    public static IReadOnlyList<string> SortLargeCommunities(IEnumerable<(uint Global, uint Local1, uint Local2)> values) =>
        values.Distinct().Order().Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Global}:{v.Local1}:{v.Local2}")).ToArray();

    public static IReadOnlyList<string> SortExtCommunities(IEnumerable<ulong> values) =>
        values.Distinct().Order().Select(v => v.ToString("x16", CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Canonical prefix text (masked, RFC 5952 for IPv6).</summary>
    public static string CanonicalPrefix(string text)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = System.Net.IPAddress.Parse(text[..slash]);
        int length = int.Parse(text[(slash + 1)..], CultureInfo.InvariantCulture);
        var bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return $"{new System.Net.IPAddress(bytes)}/{length}";
    }

    public static string CanonicalAddress(string text) => System.Net.IPAddress.Parse(text).ToString();
}
