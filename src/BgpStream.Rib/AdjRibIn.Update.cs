using BgpStream.Bgp;

namespace BgpStream.Rib;

public sealed partial class AdjRibIn
{
    /// <summary>
    /// One UPDATE in the order its fields take effect: withdrawn routes, MP_UNREACH_NLRI, then the
    /// NLRI field and MP_REACH_NLRI, each announcing with its own interned attribute block.
    /// </summary>
    /// <param name="message">The whole message, header included.</param>
    internal void ApplyUpdate(PeerRib peer, ReadOnlySpan<byte> message, in BgpDecodeContext context, uint time)
    {
        Updates++;
        if (!UpdateMessage.TryParse(message[BgpConstants.HeaderLength..], context, out var update, out _))
        {
            // RFC 4271 §6.3: the field lengths do not add up; the session is reset, nothing applies.
            MalformedUpdates++;
            return;
        }
        var attrs = update.ParseAttributes();
        // RFC 7606 §2 treat-as-withdraw (and anything stronger): announced routes are withdrawn.
        bool withdrawAll = attrs.Error.Action >= ErrorAction.TreatAsWithdraw;
        if (withdrawAll && (!update.Nlri.IsEmpty || attrs.TryGetMpReach(out _))) TreatedAsWithdraw++;
        bool malformed = false;

        if (update.IsEndOfRib)
        {
            EndOfRib(peer, RibFamily.IPv4Unicast);
            return;
        }
        var withdrawn = update.ReadWithdrawn();
        malformed |= !Withdraw(peer, ref withdrawn);
        if (attrs.TryGetMpUnreach(out var unreach))
        {
            var reader = UpdateMessage.ReadMpUnreach(attrs, unreach, context);
            // RFC 4724 §2: End-of-RIB of another family is an UPDATE with nothing but an empty MP_UNREACH_NLRI.
            if (reader.AtEnd && update.WithdrawnRoutes.IsEmpty && update.Nlri.IsEmpty && attrs.Count == 1
                && RibFamilies.TryFrom(reader.Afi, reader.Safi, out var family))
            {
                EndOfRib(peer, family);
                return;
            }
            malformed |= !Withdraw(peer, ref reader);
        }
        if (!update.Nlri.IsEmpty)
        {
            var reader = update.ReadNlri();
            malformed |= withdrawAll
                ? !Withdraw(peer, ref reader)
                : !Announce(peer, ref reader, update.PathAttributes, attrs, context, withMpReach: false, default, time);
        }
        if (attrs.TryGetMpReach(out var reach))
        {
            var reader = UpdateMessage.ReadMpReach(attrs, reach, context);
            malformed |= withdrawAll
                ? !Withdraw(peer, ref reader)
                : !Announce(peer, ref reader, update.PathAttributes, attrs, context, withMpReach: true, reach.NextHop, time);
        }
        if (malformed) MalformedUpdates++;
    }

    /// <returns>False when the NLRI could not be read to the end (what was read is applied).</returns>
    private bool Announce(PeerRib peer, ref NlriReader reader, ReadOnlySpan<byte> rawAttributes, scoped in PathAttributeSet attrs,
        in BgpDecodeContext context, bool withMpReach, ReadOnlySpan<byte> mpNextHop, uint time)
    {
        if (!RibFamilies.TryFrom(reader.Afi, reader.Safi, out var family))
            return Skip(ref reader);
        int needed = RibAttributes.MaxLength(rawAttributes.Length);
        if (_scratch.Length < needed) _scratch = new byte[needed];
        int length = RibAttributes.Build(rawAttributes, attrs, context.FourOctetAs, withMpReach, mpNextHop, _scratch);
        // One reference held for the UPDATE, so the block survives replacing routes that share it.
        int id = Attributes.Acquire(_scratch.AsSpan(0, length));
        while (reader.TryRead(out var nlri, out _))
        {
            if (nlri.Kind != NlriKind.Prefix) continue;
            Announcements++;
            var prefix = nlri.Prefix.Masked();
            var route = new Route(id, time);
            switch (family)
            {
                case RibFamily.IPv4Unicast: Put(peer, ref peer.IPv4Unicast, Ipv4RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId), route); break;
                case RibFamily.IPv4Multicast: Put(peer, ref peer.IPv4Multicast, Ipv4RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId), route); break;
                case RibFamily.IPv6Unicast: Put(peer, ref peer.IPv6Unicast, Ipv6RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId), route); break;
                default: Put(peer, ref peer.IPv6Multicast, Ipv6RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId), route); break;
            }
        }
        Attributes.Release(id);
        return reader.AtEnd;
    }

    private bool Withdraw(PeerRib peer, ref NlriReader reader)
    {
        if (!RibFamilies.TryFrom(reader.Afi, reader.Safi, out var family))
            return Skip(ref reader);
        while (reader.TryRead(out var nlri, out _))
        {
            if (nlri.Kind != NlriKind.Prefix) continue;
            Withdrawals++;
            var prefix = nlri.Prefix.Masked();
            switch (family)
            {
                case RibFamily.IPv4Unicast: Remove(peer, peer.IPv4Unicast, Ipv4RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId)); break;
                case RibFamily.IPv4Multicast: Remove(peer, peer.IPv4Multicast, Ipv4RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId)); break;
                case RibFamily.IPv6Unicast: Remove(peer, peer.IPv6Unicast, Ipv6RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId)); break;
                default: Remove(peer, peer.IPv6Multicast, Ipv6RouteKey.Create(prefix, nlri.HasPathId, nlri.PathId)); break;
            }
        }
        return reader.AtEnd;
    }

    /// <summary>
    /// The peer has sent its table of the family (RFC 4724 §2): the hash table grew by doubling and is
    /// up to half empty, so it is sized to what it holds now (27 % of a full table's bytes, benchmarks/RESULTS.md
    /// "RIB memory"). Later changes are small against a full table.
    /// </summary>
    private static void EndOfRib(PeerRib peer, RibFamily family)
    {
        switch (family)
        {
            case RibFamily.IPv4Unicast: peer.IPv4Unicast?.TrimExcess(); break;
            case RibFamily.IPv4Multicast: peer.IPv4Multicast?.TrimExcess(); break;
            case RibFamily.IPv6Unicast: peer.IPv6Unicast?.TrimExcess(); break;
            default: peer.IPv6Multicast?.TrimExcess(); break;
        }
    }

    private bool Skip(ref NlriReader reader)
    {
        while (reader.TryRead(out _, out _)) OtherFamilyNlri++;
        return reader.AtEnd;
    }

    /// <summary>Adds or replaces a route (RFC 4271 §3.1: a new announcement implicitly withdraws the previous one).</summary>
    private void Put<TKey>(PeerRib peer, ref Dictionary<TKey, Route>? table, TKey key, Route route) where TKey : struct, IRouteKey<TKey>
    {
        table ??= new Dictionary<TKey, Route>();
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(table, key, out bool exists);
        Attributes.AddReference(route.AttributeId);
        if (exists)
        {
            Attributes.Release(slot.AttributeId);
        }
        else
        {
            peer.RouteCount++;
            RouteCount++;
        }
        slot = route;
    }

    private void Remove<TKey>(PeerRib peer, Dictionary<TKey, Route>? table, TKey key) where TKey : struct, IRouteKey<TKey>
    {
        if (table is null || !table.Remove(key, out var old)) return;
        Attributes.Release(old.AttributeId);
        peer.RouteCount--;
        RouteCount--;
    }
}
