using System.Buffers.Binary;
using BgpStream.Bgp;

namespace BgpStream.LoadGen;

/// <summary>
/// How one of several full-table peers differs from the others, as real full tables from different
/// peers do, deterministically:
/// <list type="bullet">
/// <item>its own AS first in every AS_PATH (in place of the table's feeder AS) and its own next hops;</item>
/// <item>a share of the prefixes (<see cref="AlternatePercent"/>, chosen by a hash of prefix and peer,
/// so more-specifics do not simply follow their covering prefix) reach it over one of
/// <see cref="Upstreams"/> upstreams of its own: that upstream's AS after its own, and a MED that
/// names peer and upstream (replacing the table's MED, added when there was none).</item>
/// </list>
/// Prefixes are the same for every peer; only attributes differ.
/// </summary>
internal sealed record PeerVariation(int Index, uint Asn, IpAddressValue NextHop4, IpAddressValue NextHop6)
{
    public const int AlternatePercent = 20;
    public const int Upstreams = 4;

    /// <summary>The AS of alternate upstream <paramref name="k"/> (0-based) of this peer.</summary>
    public uint UpstreamAs(int k) => 4200001000u + (uint)(Index * Upstreams + k);

    /// <summary>0 for the table's own path, 1..<see cref="Upstreams"/> for an alternate upstream.</summary>
    public int VariantOf(in IpPrefix prefix)
    {
        // Not HashCode: it is seeded per process, and runs must agree.
        uint h = (uint)StableHash(prefix, Index);
        return h % 100 < AlternatePercent ? 1 + (int)(h / 100 % Upstreams) : 0;
    }

    private static ulong StableHash(in IpPrefix prefix, int index)
    {
        ulong x = (ulong)prefix.Address.Value ^ (ulong)(prefix.Address.Value >> 64) * 0x9E3779B97F4A7C15UL;
        x ^= (ulong)prefix.Length << 56 ^ (ulong)index * 0xC2B2AE3D27D4EB4FUL;
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDUL;
        x ^= x >> 33;
        x *= 0xC4CEB9FE1A85EC53UL;
        return x ^ x >> 33;
    }

    /// <summary>
    /// The table as this peer sends it: the same prefixes, attribute sets rewritten (feeder AS
    /// replaced, alternate upstream and MED added for the variant), deduplicated again.
    /// </summary>
    public FullTable Apply(FullTable table)
    {
        var sets = new List<byte[]>();
        var index = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
        var cache = new Dictionary<(int Set, int Variant), int>();
        var routes = new (IpPrefix Prefix, int Attributes)[table.Routes.Count];
        var scratch = new byte[1 << 16];
        for (int i = 0; i < routes.Length; i++)
        {
            var (prefix, set) = table.Routes[i];
            int variant = VariantOf(prefix);
            if (!cache.TryGetValue((set, variant), out int id))
            {
                var block = scratch[..Rewrite(table.AttributeSets[set], variant, scratch)];
                if (!index.TryGetValue(block, out id))
                {
                    id = sets.Count;
                    sets.Add(block);
                    index.Add(block, id);
                }
                cache.Add((set, variant), id);
            }
            routes[i] = (prefix, id);
        }
        return new FullTable { Routes = routes, AttributeSets = sets, CorpusPrefixes = table.CorpusPrefixes, RibEntriesRead = table.RibEntriesRead, EntriesSkipped = table.EntriesSkipped };
    }

    /// <summary>
    /// Rewrites one normalised attribute set: <see cref="AttributeNormalizer"/> put the feeder AS
    /// first in the first AS_SEQUENCE, so it sits at bytes 2–5 of the AS_PATH value.
    /// </summary>
    private int Rewrite(ReadOnlySpan<byte> attrs, int variant, Span<byte> output)
    {
        var reader = new PathAttributeReader(attrs);
        int n = 0;
        bool med = false;
        Span<byte> medValue = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(medValue, (uint)(10 * (Index * Upstreams + variant)));
        while (reader.TryRead(out var a, out _))
        {
            var v = a.Value;
            switch (a.Type)
            {
                case PathAttributeType.AsPath:
                {
                    bool insert = variant > 0 && v[1] < 255;
                    Span<byte> path = stackalloc byte[v.Length + 4];
                    v[..2].CopyTo(path);
                    BinaryPrimitives.WriteUInt32BigEndian(path[2..], Asn);
                    int p = 6;
                    if (insert)
                    {
                        path[1]++;
                        BinaryPrimitives.WriteUInt32BigEndian(path[6..], UpstreamAs(variant - 1));
                        p += 4;
                    }
                    v[6..].CopyTo(path[p..]);
                    p += v.Length - 6;
                    n += AttributeNormalizer.Write(output[n..], a.Flags & ~PathAttributeFlags.ExtendedLength, a.Type, path[..p]);
                    break;
                }
                case PathAttributeType.MultiExitDisc when variant > 0:
                    n += AttributeNormalizer.Write(output[n..], a.Flags & ~PathAttributeFlags.ExtendedLength, a.Type, medValue);
                    med = true;
                    break;
                default:
                    var raw = attrs.Slice(a.Offset, a.HeaderLength + v.Length);
                    raw.CopyTo(output[n..]);
                    n += raw.Length;
                    break;
            }
        }
        if (variant > 0 && !med) n += AttributeNormalizer.Write(output[n..], PathAttributeFlags.Optional, PathAttributeType.MultiExitDisc, medValue);
        return n;
    }
}
