using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Dump;

public sealed partial class BgpdumpFormatter
{
    private void FormatTableDumpV2(in MrtRecord record)
    {
        if (record.Subtype == (ushort)TableDumpV2Subtype.PeerIndexTable)
        {
            if (PeerIndexTable.TryParse(record.Body, out var table, out var err)) _peerIndex = table;
            else Error(record, err!);
            return;
        }
        if (!RibRecord.IsRibSubtype(record.Subtype)) return;
        if (!RibRecord.TryParse(record.Subtype, record.Body, out var rib, out var error))
        {
            Error(record, error!);
            return;
        }
        // bgpdump prints only the unicast RIB subtypes; we also print multicast RIBs and the IP VPN
        // entries of RIB_GENERIC (as "RD:prefix"), which it drops (docs/bgpdump-format.md).
        bool vpn = rib.Safi is Safi.MplsVpn or Safi.MulticastVpn && rib.Afi is Afi.IPv4 or Afi.IPv6;
        if (!rib.HasPrefix || !(IsPrinted(rib.Afi, rib.Safi) || vpn)) return;
        if (_peerIndex is null)
        {
            Error(record, "RIB record before any PEER_INDEX_TABLE");
            return;
        }
        var kind = rib.IsAddPath ? "TABLE_DUMP2_AP"u8 : "TABLE_DUMP2"u8;
        // RFC 6396 §4.3.4: RIB entry attributes always use 4-octet AS numbers.
        var ctx = BgpDecodeContext.Modern;
        while (rib.TryReadEntry(out var entry, out error))
        {
            if (entry.PeerIndex >= _peerIndex.Peers.Length)
            {
                Error(record, $"RIB entry refers to peer {entry.PeerIndex}, the index has {_peerIndex.Peers.Length}");
                continue;
            }
            var peer = _peerIndex.Peers[entry.PeerIndex];
            var attrs = PathAttributeSet.Parse(entry.Attributes, ctx, ribEntry: true, keepMalformed: true);
            IpAddressValue nextHop = default;
            if (rib.Afi == Afi.IPv4 && attrs.TryGetNextHop(out var nh4)) nextHop = nh4;
            else if (MpReachNlri.TryParseRibEntry(attrs.MpReach, rib.Afi, rib.Safi, out var reach))
                MpReachNlri.TryGetNextHop(reach.NextHop, out nextHop, out _);
            BuildHead(_head, kind, record, "B"u8, peer.Address, peer.Asn);
            if (vpn) _head.AppendRouteDistinguisher(rib.RouteDistinguisher);
            BuildTail(_tail, attrs, 4, nextHop);
            WriteLine(_head.Span, rib.Prefix, rib.IsAddPath ? entry.PathId : null, _tail.Span);
        }
        if (error is not null) Error(record, error);
    }

    private void FormatTableDump(in MrtRecord record)
    {
        var reader = new TableDumpReader(record.Subtype, record.Body);
        var ctx = BgpDecodeContext.Legacy;
        while (reader.TryRead(out var entry, out var error))
        {
            var attrs = PathAttributeSet.Parse(entry.Attributes, ctx, ribEntry: true, keepMalformed: true);
            IpAddressValue nextHop = default;
            if (entry.Prefix.Family == Afi.IPv4 && attrs.TryGetNextHop(out var nh4)) nextHop = nh4;
            else if (MpReachNlri.TryParseRibEntry(attrs.MpReach, entry.Prefix.Family, Safi.Unicast, out var reach))
                MpReachNlri.TryGetNextHop(reach.NextHop, out nextHop, out _);
            BuildHead(_head, "TABLE_DUMP"u8, record, "B"u8, entry.PeerAddress, entry.PeerAs);
            BuildTail(_tail, attrs, 2, nextHop);
            WriteLine(_head.Span, entry.Prefix, null, _tail.Span);
            if (error is not null) Error(record, error);
        }
    }

    private void FormatLegacyBgp(in MrtRecord record)
    {
        if (!LegacyBgpRecord.TryParse(record.Subtype, record.Body, out var rec, out var error))
        {
            Error(record, error!);
            return;
        }
        switch (rec.Subtype)
        {
            case LegacyBgpSubtype.StateChange:
                WriteStateLine("BGP"u8, record, rec.PeerAddress, rec.PeerAs, rec.OldState, rec.NewState);
                break;
            case LegacyBgpSubtype.Update:
                FormatUpdate(record, rec.MessageBody, BgpDecodeContext.Legacy.WithExtendedMessage(true), "BGP"u8, "BGP"u8,
                    rec.PeerAddress, rec.PeerAs, communities: false);
                break;
        }
    }
}
