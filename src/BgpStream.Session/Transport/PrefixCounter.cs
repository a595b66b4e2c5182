using BgpStream.Bgp;

namespace BgpStream.Session;

/// <summary>
/// The distinct prefixes (with path identifiers) a peer currently announces, for the max-prefix
/// limit. Kept only for peers with a limit; the Adj-RIB-In of the detectors is the compact store.
/// </summary>
internal sealed class PrefixCounter(long limit)
{
    private readonly HashSet<(UInt128 Address, byte Length, bool V6, uint PathId)> _prefixes = [];

    public long Limit { get; } = limit;
    public int Count => _prefixes.Count;
    public (Afi Afi, Safi Safi)? Exceeded { get; private set; }

    public void Apply(in UpdateMessage update)
    {
        var context = update.Context;
        var withdrawn = update.ReadWithdrawn();
        while (withdrawn.TryRead(out var w, out _)) Remove(w);
        var attributes = update.ParseAttributes();
        if (attributes.TryGetMpUnreach(out var unreach))
        {
            var reader = UpdateMessage.ReadMpUnreach(attributes, unreach, context);
            while (reader.TryRead(out var w, out _)) Remove(w);
        }
        // RFC 7606 §2: treat-as-withdraw turns the announcements into withdrawals.
        bool withdraw = attributes.Error.Action >= ErrorAction.TreatAsWithdraw;
        var nlri = update.ReadNlri();
        while (nlri.TryRead(out var a, out _)) AddOrRemove(a, withdraw, Afi.IPv4, Safi.Unicast);
        if (attributes.TryGetMpReach(out var reach))
        {
            var reader = UpdateMessage.ReadMpReach(attributes, reach, context);
            while (reader.TryRead(out var a, out _)) AddOrRemove(a, withdraw, reader.Afi, reader.Safi);
        }
    }

    private void AddOrRemove(in Nlri nlri, bool withdraw, Afi afi, Safi safi)
    {
        if (withdraw)
        {
            Remove(nlri);
            return;
        }
        _prefixes.Add(Key(nlri));
        if (_prefixes.Count > Limit) Exceeded ??= (afi, safi);
    }

    private void Remove(in Nlri nlri) => _prefixes.Remove(Key(nlri));

    private static (UInt128, byte, bool, uint) Key(in Nlri nlri) =>
        (nlri.Prefix.Address.Value, nlri.Prefix.Length, !nlri.Prefix.Address.IsIPv4, nlri.PathId);
}
