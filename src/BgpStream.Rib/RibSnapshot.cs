using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Rib;

/// <summary>
/// Writes an <see cref="AdjRibIn"/> as a TABLE_DUMP_V2 RIB dump (RFC 6396 §4.3), the format of RIS
/// bview and RouteViews rib files: a PEER_INDEX_TABLE of every peer, then per family one RIB record
/// per prefix in address order, holding that prefix's route from each peer. Routes received with
/// Path Identifiers go to the RFC 8050 *_ADDPATH subtypes, after the plain records of the family.
/// </summary>
public static class RibSnapshot
{
    /// <param name="timestamp">The MRT timestamp of every record: the time the snapshot stands for, seconds since the Unix epoch.</param>
    /// <returns>RIB entries written.</returns>
    public static long Write(AdjRibIn rib, Stream output, uint timestamp, uint collectorBgpId, string viewName)
    {
        var peers = rib.Peers;
        if (peers.Count > ushort.MaxValue) throw new InvalidOperationException("more than 65,535 peers do not fit a PEER_INDEX_TABLE");
        var index = new MrtPeer[peers.Count];
        for (int i = 0; i < index.Length; i++) index[i] = new MrtPeer(peers[i].BgpId, peers[i].Address, peers[i].Asn);
        var writer = new TableDumpV2Writer(output);
        writer.WritePeerIndexTable(timestamp, collectorBgpId, viewName, index);
        WriteFamily(writer, rib, RibFamily.IPv4Unicast, static p => p.IPv4Unicast, timestamp);
        WriteFamily(writer, rib, RibFamily.IPv4Multicast, static p => p.IPv4Multicast, timestamp);
        WriteFamily(writer, rib, RibFamily.IPv6Unicast, static p => p.IPv6Unicast, timestamp);
        WriteFamily(writer, rib, RibFamily.IPv6Multicast, static p => p.IPv6Multicast, timestamp);
        return writer.RibEntries;
    }

    private struct Entry<TKey>(TKey key, ushort peer, Route route) where TKey : struct, IRouteKey<TKey>
    {
        public TKey Key = key;
        public ushort Peer = peer;
        public Route Route = route;
    }

    private readonly struct EntryOrder<TKey> : IComparer<Entry<TKey>> where TKey : struct, IRouteKey<TKey>
    {
        // Prefix, then peer index (RIS order), then Path Identifier.
        public int Compare(Entry<TKey> a, Entry<TKey> b)
        {
            int c = a.Key.ComparePrefix(b.Key);
            if (c != 0) return c;
            c = a.Peer.CompareTo(b.Peer);
            return c != 0 ? c : a.Key.PathId.CompareTo(b.Key.PathId);
        }
    }

    // Every route of the family from every peer, sorted: one family at a time, so the extra memory
    // is the largest family's route count times the entry size (24 bytes for IPv4, 40 for IPv6).
    private static void WriteFamily<TKey>(TableDumpV2Writer writer, AdjRibIn rib, RibFamily family,
        Func<PeerRib, Dictionary<TKey, Route>?> table, uint timestamp) where TKey : struct, IRouteKey<TKey>
    {
        long total = 0;
        foreach (var peer in rib.Peers) total += table(peer)?.Count ?? 0;
        if (total == 0) return;
        var entries = new Entry<TKey>[total];
        int n = 0;
        foreach (var peer in rib.Peers)
        {
            var routes = table(peer);
            if (routes is null) continue;
            foreach (var (key, route) in routes) entries[n++] = new Entry<TKey>(key, (ushort)peer.Index, route);
        }
        entries.AsSpan().Sort(new EntryOrder<TKey>());

        var afi = family.Afi();
        var safi = family.Safi();
        for (int i = 0; i < n;)
        {
            var first = entries[i].Key;
            writer.BeginRib(timestamp, afi, safi, first.HasPathId, first.Prefix);
            for (; i < n && entries[i].Key.ComparePrefix(first) == 0; i++)
            {
                ref var e = ref entries[i];
                writer.AddEntry(e.Peer, e.Route.OriginatedTime, e.Key.PathId, rib.Attributes[e.Route.AttributeId]);
            }
            writer.EndRib();
        }
    }
}
