using BgpStream.Bgp;
using BgpStream.Mrt;
using BgpStream.TestSupport;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Counts what a corpus file holds, with our readers, in the shape of reference-counts.json's
/// "independent_walk": records by type/subtype, BGP messages by type, announced and withdrawn
/// prefixes per family, RIB entries per kind, state changes, and the reader's diagnostics.
/// </summary>
internal sealed class MrtCorpusWalk
{
    public Dictionary<string, long> Records { get; } = new();
    public Dictionary<string, long> BgpMessages { get; } = new();
    public Dictionary<string, long> Announced { get; } = new();
    public Dictionary<string, long> Withdrawn { get; } = new();
    public Dictionary<string, long> RibEntries { get; } = new();
    public long StateChanges { get; private set; }
    public long RecordCount { get; private set; }
    public long NlriErrors { get; private set; }
    public List<MrtDiagnostic> Diagnostics { get; } = new();
    public List<string> DecodeErrors { get; } = new();

    /// <summary>Use the session tracker's ADD-PATH inference for plain MESSAGE records (RFC 8050 §3's ambiguity).</summary>
    public bool InferAddPath { get; init; }
    public SessionContextTracker Sessions { get; } = new();

    public static MrtCorpusWalk Run(string relative, bool inferAddPath = false)
    {
        var walk = new MrtCorpusWalk { InferAddPath = inferAddPath };
        using var reader = MrtReader.Open(Corpus.PathOf(relative));
        reader.Diagnostic = walk.Diagnostics.Add;
        while (reader.TryRead(out var record)) walk.Add(record);
        return walk;
    }

    private static void Inc(Dictionary<string, long> d, string key, long by = 1) => d[key] = d.GetValueOrDefault(key) + by;

    public void Add(in MrtRecord record)
    {
        RecordCount++;
        Inc(Records, RecordName(record.TypeValue, record.Subtype));
        switch (record.Type)
        {
            case MrtType.Bgp4mp or MrtType.Bgp4mpEt:
                Bgp4mp(record);
                break;
            case MrtType.TableDump:
            {
                var reader = new TableDumpReader(record.Subtype, record.Body);
                string? error;
                while (reader.TryRead(out _, out error)) Inc(RibEntries, record.Subtype == 2 ? "tdv1-ipv6" : "tdv1-ipv4");
                if (error is not null) DecodeErrors.Add($"@{record.Offset}: {error}");
                break;
            }
            case MrtType.TableDumpV2 when RibRecord.IsRibSubtype(record.Subtype):
            {
                if (!RibRecord.TryParse(record.Subtype, record.Body, out var rib, out var error))
                {
                    DecodeErrors.Add($"@{record.Offset}: {error}");
                    break;
                }
                string kind = (TableDumpV2Subtype)record.Subtype switch
                {
                    TableDumpV2Subtype.RibGeneric or TableDumpV2Subtype.RibGenericAddPath => $"generic afi{(ushort)rib.Afi}/safi{(byte)rib.Safi}",
                    _ => (rib.Afi == Afi.IPv4 ? "ipv4" : "ipv6") + (rib.Safi == Safi.Multicast ? "-mcast" : "") + (rib.IsAddPath ? "-addpath" : ""),
                };
                while (rib.TryReadEntry(out _, out error)) Inc(RibEntries, kind);
                if (error is not null) DecodeErrors.Add($"@{record.Offset}: {error}");
                break;
            }
        }
    }

    private void Bgp4mp(in MrtRecord record)
    {
        if (!Bgp4mpRecord.TryParse(record.Subtype, record.Body, out var rec, out var error))
        {
            DecodeErrors.Add($"@{record.Offset}: {error}");
            return;
        }
        if (rec.IsStateChange)
        {
            StateChanges++;
            return;
        }
        var message = rec.Message;
        var ctx = InferAddPath ? Sessions.ContextFor(rec) : rec.DecodeContext;
        if (!BgpMessageHeader.TryParse(message, BgpConstants.MaxExtendedMessageLength, out var header, out var bgpError) || header.Length > message.Length)
        {
            DecodeErrors.Add($"@{record.Offset}: BGP header: {(bgpError.IsError ? bgpError.ToString() : "longer than the record")}");
            return;
        }
        Inc(BgpMessages, header.Type switch
        {
            BgpMessageType.Open => "OPEN",
            BgpMessageType.Update => "UPDATE",
            BgpMessageType.Notification => "NOTIFICATION",
            BgpMessageType.Keepalive => "KEEPALIVE",
            _ => "ROUTE-REFRESH",
        });
        if (header.Type != BgpMessageType.Update) return;
        var body = message[BgpConstants.HeaderLength..header.Length];
        if (!UpdateMessage.TryParse(body, ctx, out var update, out bgpError))
        {
            DecodeErrors.Add($"@{record.Offset}: UPDATE: {bgpError}");
            return;
        }
        var attrs = update.ParseAttributes();
        if (InferAddPath && !SessionContextTracker.NlriWellFormed(update, attrs))
        {
            var inferred = Sessions.InferAddPath(update, attrs, ctx);
            if (!inferred.Equals(ctx))
            {
                UpdateMessage.TryParse(body, inferred, out update, out _);
                attrs = update.ParseAttributes();
                ctx = inferred;
            }
        }
        Inc(Withdrawn, "ipv4(classic)", Count(update.ReadWithdrawn()));
        Inc(Announced, "ipv4(classic)", Count(update.ReadNlri()));
        if (attrs.TryGetMpReach(out var reach))
        {
            if (Family(reach.Afi, reach.Safi) is { } name) Inc(Announced, name, Count(UpdateMessage.ReadMpReach(attrs, reach, ctx)));
            else if (reach.Afi == Afi.IPv4 && reach.Safi == Safi.MplsVpn) Inc(Announced, "ipv4-safi128(records)(MP)");
        }
        if (attrs.TryGetMpUnreach(out var unreach))
        {
            if (Family(unreach.Afi, unreach.Safi) is { } name) Inc(Withdrawn, name, Count(UpdateMessage.ReadMpUnreach(attrs, unreach, ctx)));
            else if (unreach.Afi == Afi.IPv4 && unreach.Safi == Safi.MplsVpn) Inc(Withdrawn, "ipv4-safi128(records)(MP)");
        }
    }

    private static string? Family(Afi afi, Safi safi) => (afi, safi) switch
    {
        (Afi.IPv4, Safi.Unicast) => "ipv4(MP)",
        (Afi.IPv4, Safi.Multicast) => "ipv4-mcast(MP)",
        (Afi.IPv6, Safi.Unicast) => "ipv6(MP)",
        (Afi.IPv6, Safi.Multicast) => "ipv6-mcast(MP)",
        _ => null,
    };

    /// <summary>Prefixes read before the field ends or turns out malformed (a malformed tail is counted as an error).</summary>
    private int Count(NlriReader reader)
    {
        int n = 0;
        BgpError error;
        while (reader.TryRead(out _, out error)) n++;
        if (error.IsError) NlriErrors++;
        return n;
    }

    /// <summary>The walk's names: "BGP4MP/MESSAGE_AS4", "TABLE_DUMP_V2/RIB_IPV6_UNICAST", "BGP(deprecated)/UPDATE" …</summary>
    public static string RecordName(ushort type, ushort subtype) => (MrtType)type switch
    {
        MrtType.Bgp4mp or MrtType.Bgp4mpEt => $"{((MrtType)type == MrtType.Bgp4mp ? "BGP4MP" : "BGP4MP_ET")}/{(Bgp4mpSubtype)subtype switch
        {
            Bgp4mpSubtype.StateChange => "STATE_CHANGE",
            Bgp4mpSubtype.Message => "MESSAGE",
            Bgp4mpSubtype.Entry => "ENTRY(deprecated)",
            Bgp4mpSubtype.Snapshot => "SNAPSHOT(deprecated)",
            Bgp4mpSubtype.MessageAs4 => "MESSAGE_AS4",
            Bgp4mpSubtype.StateChangeAs4 => "STATE_CHANGE_AS4",
            Bgp4mpSubtype.MessageLocal => "MESSAGE_LOCAL",
            Bgp4mpSubtype.MessageAs4Local => "MESSAGE_AS4_LOCAL",
            Bgp4mpSubtype.MessageAddPath => "MESSAGE_ADDPATH",
            Bgp4mpSubtype.MessageAs4AddPath => "MESSAGE_AS4_ADDPATH",
            Bgp4mpSubtype.MessageLocalAddPath => "MESSAGE_LOCAL_ADDPATH",
            Bgp4mpSubtype.MessageAs4LocalAddPath => "MESSAGE_AS4_LOCAL_ADDPATH",
            _ => subtype.ToString(),
        }}",
        MrtType.TableDump => $"TABLE_DUMP/{(subtype == 2 ? "AFI_IPv6" : "AFI_IPv4")}",
        MrtType.TableDumpV2 => $"TABLE_DUMP_V2/{(TableDumpV2Subtype)subtype switch
        {
            TableDumpV2Subtype.PeerIndexTable => "PEER_INDEX_TABLE",
            TableDumpV2Subtype.RibIPv4Unicast => "RIB_IPV4_UNICAST",
            TableDumpV2Subtype.RibIPv4Multicast => "RIB_IPV4_MULTICAST",
            TableDumpV2Subtype.RibIPv6Unicast => "RIB_IPV6_UNICAST",
            TableDumpV2Subtype.RibIPv6Multicast => "RIB_IPV6_MULTICAST",
            TableDumpV2Subtype.RibGeneric => "RIB_GENERIC",
            TableDumpV2Subtype.RibIPv4UnicastAddPath => "RIB_IPV4_UNICAST_ADDPATH",
            TableDumpV2Subtype.RibIPv4MulticastAddPath => "RIB_IPV4_MULTICAST_ADDPATH",
            TableDumpV2Subtype.RibIPv6UnicastAddPath => "RIB_IPV6_UNICAST_ADDPATH",
            TableDumpV2Subtype.RibIPv6MulticastAddPath => "RIB_IPV6_MULTICAST_ADDPATH",
            TableDumpV2Subtype.RibGenericAddPath => "RIB_GENERIC_ADDPATH",
            _ => subtype.ToString(),
        }}",
        MrtType.Bgp => $"BGP(deprecated)/{(LegacyBgpSubtype)subtype switch
        {
            LegacyBgpSubtype.Update => "UPDATE",
            LegacyBgpSubtype.Open => "OPEN",
            LegacyBgpSubtype.Notify => "NOTIFY",
            LegacyBgpSubtype.Keepalive => "KEEPALIVE",
            LegacyBgpSubtype.StateChange => "STATE_CHANGE",
            LegacyBgpSubtype.PrefUpdate => "PREF_UPDATE",
            LegacyBgpSubtype.Sync => "SYNC",
            _ => "NULL",
        }}",
        _ => $"type{type}/sub{subtype}",
    };
}
