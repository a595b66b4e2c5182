using System.Text.Json;
using BgpStream.TestSupport;

namespace BgpStream.Bgp.Tests;

/// <summary>
/// ExaBGP's decoding vectors (corpus Exa-Networks__exabgp/qa/decoding): every one decodes, and what
/// ExaBGP's JSON (line 3) says about families, next hops, entry counts and the common attributes
/// agrees with our readers. ExaBGP sessions use 4-octet AS numbers.
/// </summary>
public class ExaBgpVectorTests
{
    public static TheoryData<string> Names => new(ExaBgpVector.All().Select(v => v.Name));

    private static readonly Dictionary<string, (Afi, Safi)> ExaFamilies = new()
    {
        ["ipv4 unicast"] = (Afi.IPv4, Safi.Unicast),
        ["ipv4 flow"] = (Afi.IPv4, Safi.FlowSpec),
        ["ipv6 flow"] = (Afi.IPv6, Safi.FlowSpec),
        ["l2vpn evpn"] = (Afi.L2vpn, Safi.Evpn),
        ["bgp-ls bgp-ls"] = (Afi.BgpLs, Safi.BgpLs),
        ["ipv4 mpls-vpn"] = (Afi.IPv4, Safi.MplsVpn),
        ["ipv4 sr-policy"] = (Afi.IPv4, Safi.SrPolicy),
    };

    [Fact]
    public void All_22_vectors_are_present()
    {
        var all = ExaBgpVector.All();
        Assert.Equal(22, all.Count);
        Assert.Equal(16, all.Count(v => v.IsWholeMessage));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Vector_decodes_and_agrees_with_exabgp(string name)
    {
        var vector = ExaBgpVector.Load(Path.Combine(ExaBgpVector.Directory, name));
        var ctx = BgpDecodeContext.Modern;
        if (vector.Kind.StartsWith("nlri", StringComparison.Ordinal))
        {
            BareNlri(vector);
            return;
        }
        if (vector.Kind == "open")
        {
            Open(vector);
            return;
        }

        UpdateMessage update;
        BgpError error;
        if (vector.IsWholeMessage) Assert.True(UpdateMessage.TryParseMessage(vector.Bytes, ctx, out update, out error), error.ToString());
        else Assert.True(UpdateMessage.TryParse(vector.Bytes, ctx, out update, out error, bodyOffset: 0), error.ToString()); // UPDATE body only
        var validation = update.Validate();
        Assert.False(validation.IsError, validation.ToString());

        using var json = JsonDocument.Parse(vector.Json!);
        var message = json.RootElement.GetProperty("neighbor").GetProperty("message").GetProperty("update");
        var attrs = update.ParseAttributes();
        if (message.TryGetProperty("attribute", out var attribute)) CompareAttributes(attribute, attrs);

        if (message.TryGetProperty("announce", out var announce))
        {
            foreach (var family in announce.EnumerateObject())
            {
                var (afi, safi) = ExaFamilies[family.Name];
                foreach (var nextHop in family.Value.EnumerateObject())
                {
                    int expected = nextHop.Value.GetArrayLength();
                    if (afi == Afi.IPv4 && safi == Safi.Unicast && !update.Nlri.IsEmpty)
                    {
                        Assert.True(attrs.TryGetNextHop(out var nh));
                        Assert.Equal(nextHop.Name, nh.ToString());
                        Assert.Equal(expected, Count(update.ReadNlri()));
                        continue;
                    }
                    Assert.True(attrs.TryGetMpReach(out var reach));
                    Assert.Equal((afi, safi), (reach.Afi, reach.Safi));
                    if (nextHop.Name == "no-nexthop") Assert.Equal(0, reach.NextHop.Length);
                    else
                    {
                        Assert.True(MpReachNlri.TryGetNextHop(reach.NextHop, out var nh, out _));
                        Assert.Equal(nextHop.Name, nh.ToString());
                    }
                    Assert.Equal(expected, Count(UpdateMessage.ReadMpReach(attrs, reach, ctx)));
                }
            }
        }
        if (message.TryGetProperty("withdraw", out var withdraw))
        {
            foreach (var family in withdraw.EnumerateObject())
            {
                Assert.True(attrs.TryGetMpUnreach(out var unreach));
                Assert.Equal(ExaFamilies[family.Name], (unreach.Afi, unreach.Safi));
                var reader = UpdateMessage.ReadMpUnreach(attrs, unreach, ctx);
                var entries = family.Value.EnumerateArray().ToList();
                int i = 0;
                while (reader.TryRead(out var nlri, out error))
                {
                    // ExaBGP's "raw" is the whole EVPN route: type, length, value — our raw slice.
                    if (entries[i].TryGetProperty("raw", out var raw)) Assert.Equal(raw.GetString(), Convert.ToHexString(nlri.Raw));
                    i++;
                }
                Assert.False(error.IsError);
                Assert.Equal(entries.Count, i);
            }
        }
    }

    private static void CompareAttributes(JsonElement attribute, PathAttributeSet attrs)
    {
        foreach (var property in attribute.EnumerateObject())
        {
            switch (property.Name)
            {
                case "origin":
                    Assert.True(attrs.TryGetOrigin(out var origin));
                    Assert.Equal(property.Value.GetString(), PathAttributeSet.OriginName(origin).ToLowerInvariant());
                    break;
                case "med":
                    Assert.True(attrs.TryGetMultiExitDisc(out var med));
                    Assert.Equal(property.Value.GetUInt32(), med);
                    break;
                case "local-preference":
                    Assert.True(attrs.TryGetLocalPref(out var lp));
                    Assert.Equal(property.Value.GetUInt32(), lp);
                    break;
                case "atomic-aggregate":
                    Assert.Equal(property.Value.GetBoolean(), attrs.AtomicAggregate);
                    break;
                case "aggregator":
                    Assert.True(attrs.TryGetAggregator(out var agg));
                    Assert.Equal(property.Value.GetString(), $"{agg.Asn}:{IpAddressValue.FromIPv4(agg.Address)}");
                    break;
                case "as-path":
                {
                    var reader = new AsPathReader(attrs.AsPath, 4);
                    foreach (var segment in property.Value.EnumerateObject())
                    {
                        Assert.True(reader.TryRead(out var seg));
                        Assert.Equal("as-sequence", segment.Value.GetProperty("element").GetString());
                        Assert.Equal(AsPathSegmentType.AsSequence, seg.Type);
                        var values = segment.Value.GetProperty("value").EnumerateArray().Select(v => v.GetUInt32()).ToList();
                        Assert.Equal(values.Count, seg.Count);
                        for (int i = 0; i < values.Count; i++) Assert.Equal(values[i], seg[i]);
                    }
                    break;
                }
                case "extended-community":
                {
                    var values = property.Value.EnumerateArray().Select(v => v.GetProperty("value").GetUInt64()).ToList();
                    Assert.Equal(values.Count, AttributeValues.ExtendedCommunityCount(attrs.ExtendedCommunities));
                    for (int i = 0; i < values.Count; i++) Assert.Equal(values[i], AttributeValues.ExtendedCommunity(attrs.ExtendedCommunities, i));
                    break;
                }
                case "originator-id":
                    Assert.Equal(property.Value.GetString(), IpAddressValue.ReadIPv4(attrs.OriginatorId).ToString());
                    break;
                case "cluster-list":
                {
                    var ids = property.Value.EnumerateArray().Select(v => v.GetString()).ToList();
                    Assert.Equal(ids.Count * 4, attrs.ClusterList.Length);
                    for (int i = 0; i < ids.Count; i++) Assert.Equal(ids[i], IpAddressValue.ReadIPv4(attrs.ClusterList.Slice(i * 4, 4)).ToString());
                    break;
                }
                case "bgp-ls":
                    Assert.True(attrs.Has(PathAttributeType.BgpLsAttribute));
                    break;
                case "tunnel-encap":
                    Assert.True(attrs.Has(PathAttributeType.TunnelEncapsulation));
                    break;
                case "bgp-prefix-sid":
                    Assert.True(attrs.Has(PathAttributeType.PrefixSid));
                    break;
                default:
                    Assert.Fail($"the test does not compare ExaBGP attribute '{property.Name}'");
                    break;
            }
        }
    }

    private static void BareNlri(ExaBgpVector vector)
    {
        // bgp-ls-1: one BGP-LS Link NLRI (RFC 9552 §5.2: type 2, then Protocol-ID 3 OSPFv2).
        Assert.Equal("nlri bgp-ls bgp-ls", vector.Kind);
        var reader = new NlriReader(vector.Bytes, Afi.BgpLs, Safi.BgpLs, false);
        Assert.True(reader.TryRead(out var nlri, out _));
        Assert.Equal(vector.Bytes.Length, nlri.Raw.Length);
        using var json = JsonDocument.Parse(vector.Json!);
        Assert.Equal("bgpls-link", json.RootElement.GetProperty("ls-nlri-type").GetString());
        Assert.Equal(2, (nlri.Raw[0] << 8) | nlri.Raw[1]);
        Assert.Equal(json.RootElement.GetProperty("protocol-id").GetInt32(), nlri.Raw[4]);
        Assert.False(reader.TryRead(out _, out var error));
        Assert.False(error.IsError);
    }

    private static void Open(ExaBgpVector vector)
    {
        Assert.True(BgpMessageHeader.TryParse(vector.Bytes, 4096, out var header, out _));
        Assert.Equal(BgpMessageType.Open, header.Type);
        Assert.True(OpenMessage.TryParse(vector.Bytes.AsSpan(19, header.BodyLength), out var open, out var error), error.ToString());
        using var json = JsonDocument.Parse(vector.Json!);
        var expected = json.RootElement.GetProperty("neighbor").GetProperty("open");
        Assert.Equal(expected.GetProperty("version").GetInt32(), open.Version);
        Assert.Equal(expected.GetProperty("asn").GetInt32(), open.MyAutonomousSystem);
        Assert.Equal(expected.GetProperty("hold_time").GetInt32(), open.HoldTime);
        Assert.Equal(expected.GetProperty("router_id").GetString(), IpAddressValue.FromIPv4(open.BgpIdentifier).ToString());
        var codes = new List<string>();
        var reader = open.ReadCapabilities();
        while (reader.TryRead(out var cap, out error)) codes.Add(cap.CodeValue.ToString());
        Assert.Equal(expected.GetProperty("capabilities").EnumerateObject().Select(p => p.Name), codes);
        Assert.True(open.TryGetCapabilities(out var caps, out _));
        Assert.Equal(65533u, caps.FourOctetAs);
        Assert.Equal(1, caps.UnknownCount); // 75, Software Version (draft-abraitis-bgp-version-capability)
        var software = expected.GetProperty("capabilities").GetProperty("75").GetProperty("software").GetString();
        reader = open.ReadCapabilities();
        while (reader.TryRead(out var cap, out _))
            if (cap.CodeValue == 75) Assert.Equal(software, System.Text.Encoding.UTF8.GetString(cap.Value[1..])); // length octet, then UTF-8
    }

    private static int Count(NlriReader reader)
    {
        int n = 0;
        BgpError error;
        while (reader.TryRead(out _, out error)) n++;
        Assert.False(error.IsError, error.ToString());
        return n;
    }
}
