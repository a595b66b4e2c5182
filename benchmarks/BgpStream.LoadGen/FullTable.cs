using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.LoadGen;

/// <summary>
/// A full table built from the corpus RIBs: the union of their prefixes, each with the attributes of
/// its first RIB entry, topped up to the target with more-specifics of those prefixes (which inherit
/// the covering prefix's attributes, as a de-aggregating origin's would), then encoded as UPDATEs
/// of at most 4096 bytes, prefixes sharing attributes packed together.
/// </summary>
internal sealed class FullTable
{
    /// <summary>RIB files in the order their entries win; TABLE_DUMP v1 and TABLE_DUMP_V2 alike.</summary>
    public static readonly string[] RibFiles =
    [
        "RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz",
        "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz",
        "codebje__hask-mrt/test/data/rib.bz2",
        "RIPE-NCC__bgpdump/test_data/bview.64k_stream_overflow.gz",
        "t2mune__mrtparse/samples/quagga_rib",
        "t2mune__mrtparse/samples/openbgpd_rib_table-v2",
    ];

    private const int MaxLengthV4 = 24;
    private const int MaxLengthV6 = 48;

    public required IReadOnlyList<(IpPrefix Prefix, int Attributes)> Routes { get; init; }
    public required IReadOnlyList<byte[]> AttributeSets { get; init; }
    public int CorpusPrefixes { get; init; }
    public int RibEntriesRead { get; init; }
    public int EntriesSkipped { get; init; }
    public int IPv4 => Routes.Count(r => r.Prefix.Family == Afi.IPv4);
    public int IPv6 => Routes.Count(r => r.Prefix.Family == Afi.IPv6);

    /// <summary>Reads the RIBs and tops the table up to <paramref name="target"/> prefixes.</summary>
    public static FullTable Build(string corpusRoot, int target, uint feederAs, TextWriter log)
    {
        var sets = new List<byte[]>();
        var setIndex = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
        var routes = new Dictionary<IpPrefix, int>(capacity: target + 1024);
        var order = new List<IpPrefix>(target + 1024);
        int entries = 0, skipped = 0;
        var scratch = new byte[1 << 16];

        int Intern(ReadOnlySpan<byte> attrs, int asSize)
        {
            int n = AttributeNormalizer.Normalize(attrs, asSize, feederAs, scratch);
            if (n < 0) return -1;
            var key = scratch[..n];
            if (!setIndex.TryGetValue(key, out int index))
            {
                index = sets.Count;
                sets.Add(key);
                setIndex.Add(key, index);
            }
            return index;
        }

        void Offer(IpPrefix prefix, ReadOnlySpan<byte> attrs, int asSize)
        {
            entries++;
            prefix = prefix.Masked();
            if (prefix.Family == Afi.IPv4 ? prefix.Length is 0 or > 32 : prefix.Length is 0 or > 128) { skipped++; return; }
            if (routes.ContainsKey(prefix)) return;
            int index = Intern(attrs, asSize);
            if (index < 0) { skipped++; return; }
            routes.Add(prefix, index);
            order.Add(prefix);
        }

        foreach (var relative in RibFiles)
        {
            var path = Path.Combine(corpusRoot, relative);
            if (!File.Exists(path)) throw new FileNotFoundException($"corpus RIB missing: {path}");
            int before = order.Count;
            using var reader = MrtReader.Open(path);
            while (reader.TryRead(out var record))
            {
                if (record.Type == MrtType.TableDump)
                {
                    var td = new TableDumpReader(record.Subtype, record.Body);
                    // RFC 6396 §4.2: TABLE_DUMP attributes carry 2-octet AS numbers.
                    while (td.TryRead(out var e, out _)) Offer(e.Prefix, e.Attributes, 2);
                }
                else if (record.Type == MrtType.TableDumpV2 && RibRecord.IsRibSubtype(record.Subtype)
                    && RibRecord.TryParse(record.Subtype, record.Body, out var rib, out _)
                    && rib.HasPrefix && rib.Safi == Safi.Unicast && rib.Afi is Afi.IPv4 or Afi.IPv6)
                {
                    // RFC 6396 §4.3.4: TABLE_DUMP_V2 attributes always carry 4-octet AS numbers.
                    while (rib.TryReadEntry(out var e, out _))
                    {
                        int count = order.Count;
                        Offer(rib.Prefix, e.Attributes, 4);
                        if (order.Count > count || routes.ContainsKey(rib.Prefix.Masked())) break; // first usable entry wins
                    }
                }
            }
            log.WriteLine($"  {relative}: +{order.Count - before:N0} prefixes ({order.Count:N0} total)");
        }
        int corpusPrefixes = order.Count;

        // Top up: level by level, every corpus prefix's more-specifics one bit longer, in corpus order.
        var bases = order.ToArray();
        for (int depth = 1; order.Count < target; depth++)
        {
            bool any = false;
            foreach (var b in bases)
            {
                int bits = b.Family == Afi.IPv4 ? 32 : 128;
                int max = b.Family == Afi.IPv4 ? MaxLengthV4 : MaxLengthV6;
                int length = b.Length + depth;
                if (length > max) continue;
                any = true;
                int attrs = routes[b];
                ulong children = 1UL << Math.Min(depth, 30);
                for (ulong k = 0; k < children && order.Count < target; k++)
                {
                    var address = new IpAddressValue(b.Family, b.Address.Value | ((UInt128)k << (bits - length)));
                    var child = new IpPrefix(address, (byte)length);
                    if (routes.TryAdd(child, attrs)) order.Add(child);
                }
                if (order.Count >= target) break;
            }
            if (!any) throw new InvalidOperationException($"cannot reach {target:N0} prefixes: {order.Count:N0} after all levels");
        }

        return new FullTable
        {
            Routes = order.Select(p => (p, routes[p])).ToArray(),
            AttributeSets = sets,
            CorpusPrefixes = corpusPrefixes,
            RibEntriesRead = entries,
            EntriesSkipped = skipped,
        };
    }

    /// <summary>
    /// Encodes the table as UPDATEs for a 4-octet-AS session without ADD-PATH or extended messages:
    /// IPv4 in NLRI with NEXT_HOP, IPv6 in MP_REACH_NLRI (RFC 4760). Attribute sets go in the order they
    /// first appear; prefixes within a set in table order.
    /// </summary>
    public EncodedFeed Encode(IpAddressValue nextHop4, IpAddressValue nextHop6)
    {
        var groups = new List<IpPrefix>?[AttributeSets.Count * 2];
        foreach (var (prefix, set) in Routes)
        {
            int slot = set * 2 + (prefix.Family == Afi.IPv6 ? 1 : 0);
            (groups[slot] ??= []).Add(prefix);
        }
        var output = new MemoryStream(Routes.Count * 8);
        var message = new byte[BgpConstants.MaxMessageLength];
        int messages = 0;
        long prefixes = 0;
        for (int slot = 0; slot < groups.Length; slot++)
        {
            var list = groups[slot];
            if (list is null) continue;
            var attrs = AttributeSets[slot / 2];
            bool v6 = (slot & 1) != 0;
            int i = 0;
            while (i < list.Count)
            {
                int n = v6 ? WriteIPv6(message, attrs, nextHop6, CollectionsMarshal.AsSpan(list)[i..], out int taken)
                           : WriteIPv4(message, attrs, nextHop4, CollectionsMarshal.AsSpan(list)[i..], out taken);
                output.Write(message, 0, n);
                messages++;
                prefixes += taken;
                i += taken;
            }
        }
        return new EncodedFeed(output.ToArray(), messages, prefixes, Routes.Count(r => r.Prefix.Family == Afi.IPv4), Routes.Count(r => r.Prefix.Family == Afi.IPv6));
    }

    private static int PrefixBytes(in IpPrefix p) => 1 + (p.Length + 7) / 8;

    private static int WriteIPv4(Span<byte> m, byte[] attrs, IpAddressValue nextHop, ReadOnlySpan<IpPrefix> prefixes, out int taken)
    {
        int p = BgpConstants.HeaderLength;
        m[p++] = 0; m[p++] = 0; // no withdrawn routes
        int attrLengthAt = p;
        p += 2;
        attrs.CopyTo(m[p..]);
        p += attrs.Length;
        m[p++] = 0x40; m[p++] = (byte)PathAttributeType.NextHop; m[p++] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(m[p..], nextHop.IPv4);
        p += 4;
        BinaryPrimitives.WriteUInt16BigEndian(m[attrLengthAt..], (ushort)(p - attrLengthAt - 2));
        taken = 0;
        while (taken < prefixes.Length && p + PrefixBytes(prefixes[taken]) <= BgpConstants.MaxMessageLength)
            p += UpdateMessageWriter.WritePrefix(m[p..], prefixes[taken++], addPath: false, 0);
        if (taken == 0) throw new InvalidOperationException("attributes leave no room for NLRI");
        BgpMessageWriter.WriteHeader(m, p, BgpMessageType.Update);
        return p;
    }

    private static int WriteIPv6(Span<byte> m, byte[] attrs, IpAddressValue nextHop, ReadOnlySpan<IpPrefix> prefixes, out int taken)
    {
        int p = BgpConstants.HeaderLength;
        m[p++] = 0; m[p++] = 0;
        int attrLengthAt = p;
        p += 2;
        // MP_REACH_NLRI first, always with an extended length, so its size is known before its NLRI.
        m[p++] = (byte)(PathAttributeFlags.Optional | PathAttributeFlags.ExtendedLength);
        m[p++] = (byte)PathAttributeType.MpReachNlri;
        int mpLengthAt = p;
        p += 2;
        int mpStart = p;
        BinaryPrimitives.WriteUInt16BigEndian(m[p..], (ushort)Afi.IPv6);
        m[p + 2] = (byte)Safi.Unicast;
        m[p + 3] = 16;
        nextHop.WriteTo(m[(p + 4)..]);
        m[p + 20] = 0;
        p += 21;
        int limit = BgpConstants.MaxMessageLength - attrs.Length;
        taken = 0;
        while (taken < prefixes.Length && p + PrefixBytes(prefixes[taken]) <= limit)
            p += UpdateMessageWriter.WritePrefix(m[p..], prefixes[taken++], addPath: false, 0);
        if (taken == 0) throw new InvalidOperationException("attributes leave no room for NLRI");
        BinaryPrimitives.WriteUInt16BigEndian(m[mpLengthAt..], (ushort)(p - mpStart));
        attrs.CopyTo(m[p..]);
        p += attrs.Length;
        BinaryPrimitives.WriteUInt16BigEndian(m[attrLengthAt..], (ushort)(p - attrLengthAt - 2));
        BgpMessageWriter.WriteHeader(m, p, BgpMessageType.Update);
        return p;
    }
}

/// <summary>The encoded table: UPDATEs back to back, as they go on the wire.</summary>
internal sealed record EncodedFeed(byte[] Bytes, int Messages, long Prefixes, int IPv4, int IPv6);

/// <summary>
/// Rewrites RIB entry attributes into what an eBGP speaker with 4-octet AS would send: AS_PATH and
/// AGGREGATOR widened to 4 octets, the feeder's AS prepended (RFC 4271 §5.1.2), next hops dropped
/// (the feeder sets its own), and only attributes every receiver accepts from an eBGP peer kept:
/// iBGP-only ones (LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST) are not sent to an external peer and
/// AS4_* are meaningless between 4-octet speakers (RFC 6793 §4.1).
/// </summary>
internal static class AttributeNormalizer
{
    /// <summary>Writes the kept attributes to <paramref name="output"/>; -1 when the entry is unusable.</summary>
    public static int Normalize(ReadOnlySpan<byte> attrs, int asSize, uint feederAs, Span<byte> output)
    {
        var reader = new PathAttributeReader(attrs);
        bool origin = false, asPath = false;
        int n = 0;
        while (reader.TryRead(out var a, out var error))
        {
            var v = a.Value;
            switch (a.Type)
            {
                case PathAttributeType.Origin:
                    if (v.Length != 1 || v[0] > 2) return -1;
                    n += Write(output[n..], PathAttributeFlags.Transitive, a.Type, v);
                    origin = true;
                    break;
                case PathAttributeType.AsPath:
                    if (!AsPathReader.Validate(v, asSize, out _) || HasConfederation(v, asSize)) return -1;
                    n += WriteAsPath(output[n..], v, asSize, feederAs);
                    asPath = true;
                    break;
                case PathAttributeType.MultiExitDisc:
                    if (v.Length != 4) return -1;
                    n += Write(output[n..], PathAttributeFlags.Optional, a.Type, v);
                    break;
                case PathAttributeType.AtomicAggregate:
                    n += Write(output[n..], PathAttributeFlags.Transitive, a.Type, []);
                    break;
                case PathAttributeType.Aggregator:
                    if (v.Length == 6)
                    {
                        Span<byte> wide = [0, 0, v[0], v[1], v[2], v[3], v[4], v[5]];
                        n += Write(output[n..], PathAttributeFlags.Optional | PathAttributeFlags.Transitive, a.Type, wide);
                    }
                    else if (v.Length == 8) n += Write(output[n..], PathAttributeFlags.Optional | PathAttributeFlags.Transitive, a.Type, v);
                    break;
                case PathAttributeType.Communities when v.Length % 4 == 0 && v.Length > 0:
                case PathAttributeType.ExtendedCommunities when v.Length % 8 == 0 && v.Length > 0:
                case PathAttributeType.LargeCommunity when v.Length % 12 == 0 && v.Length > 0:
                    n += Write(output[n..], PathAttributeFlags.Optional | PathAttributeFlags.Transitive, a.Type, v);
                    break;
            }
        }
        if (reader.AtEnd is false) return -1;
        if (!origin || !asPath) return -1;
        return n;
    }

    /// <summary>RFC 5065 §5.3: confederation segments must not reach a peer outside the confederation.</summary>
    private static bool HasConfederation(ReadOnlySpan<byte> path, int asSize)
    {
        var segments = new AsPathReader(path, asSize);
        while (segments.TryRead(out var s))
            if (s.Type is AsPathSegmentType.AsConfedSequence or AsPathSegmentType.AsConfedSet) return true;
        return false;
    }

    internal static int Write(Span<byte> d, PathAttributeFlags flags, PathAttributeType type, ReadOnlySpan<byte> value)
    {
        if (value.Length > 255)
        {
            d[0] = (byte)(flags | PathAttributeFlags.ExtendedLength);
            d[1] = (byte)type;
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)value.Length);
            value.CopyTo(d[4..]);
            return 4 + value.Length;
        }
        d[0] = (byte)flags;
        d[1] = (byte)type;
        d[2] = (byte)value.Length;
        value.CopyTo(d[3..]);
        return 3 + value.Length;
    }

    private static int WriteAsPath(Span<byte> d, ReadOnlySpan<byte> path, int asSize, uint feederAs)
    {
        Span<byte> v = stackalloc byte[6 + path.Length * 2 + 8];
        int n = 0;
        var segments = new AsPathReader(path, asSize);
        bool first = true;
        bool prepended = false;
        while (segments.TryRead(out var s))
        {
            bool prependHere = first && s.Type == AsPathSegmentType.AsSequence && s.Count < 255;
            first = false;
            if (!prepended && !prependHere)
            {
                v[n++] = (byte)AsPathSegmentType.AsSequence;
                v[n++] = 1;
                BinaryPrimitives.WriteUInt32BigEndian(v[n..], feederAs);
                n += 4;
                prepended = true;
            }
            v[n++] = (byte)s.Type;
            v[n++] = (byte)(s.Count + (prependHere ? 1 : 0));
            if (prependHere)
            {
                BinaryPrimitives.WriteUInt32BigEndian(v[n..], feederAs);
                n += 4;
                prepended = true;
            }
            for (int i = 0; i < s.Count; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(v[n..], s[i]);
                n += 4;
            }
        }
        if (!prepended)
        {
            v[n++] = (byte)AsPathSegmentType.AsSequence;
            v[n++] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(v[n..], feederAs);
            n += 4;
        }
        return Write(d, PathAttributeFlags.Transitive, PathAttributeType.AsPath, v[..n]);
    }
}

internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var h = new HashCode();
        h.AddBytes(obj);
        return h.ToHashCode();
    }
}
