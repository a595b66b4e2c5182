using System.Collections.Concurrent;
using BgpStream.Mrt;
using BgpStream.TestSupport;

namespace BgpStream.Benchmarks.Support;

/// <summary>
/// Corpus files the benchmarks read (relative to the corpus root, which
/// <see cref="Corpus"/> locates; nothing is copied into the repository), decompressed once per
/// process with the product's own decoders.
/// </summary>
public static class CorpusFile
{
    /// <summary>PCH 2015, BGP4MP_ET, one peer re-announcing a full table: 89,686 records.</summary>
    public const string UpdatesEtHeader2015 = "RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz";
    /// <summary>RouteViews 2026, BGP4MP_ET MESSAGE_AS4, 20 peers, large communities (bzip2).</summary>
    public const string UpdatesRouteViews2026 = "morrowc__mrtparser/testdata/updates.20260222.1530.bz2";
    /// <summary>RIS 2002 full IPv4 table, TABLE_DUMP (v1).</summary>
    public const string BviewTableDump2002 = "RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz";
    /// <summary>2015 full IPv6 table, TABLE_DUMP_V2, 27 peers (bzip2).</summary>
    public const string RibIPv6Bz2 = "codebje__hask-mrt/test/data/rib.bz2";

    /// <summary>RIS 2016 updates, IPv4 and IPv6 (MP_REACH / MP_UNREACH), 35 peers.</summary>
    public const string UpdatesRis2016 = "RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz";
    /// <summary>RIS 2018 RIB with a record over 64 KiB (TABLE_DUMP_V2).</summary>
    public const string Bview64kRecord = "RIPE-NCC__bgpdump/test_data/bview.64k_stream_overflow.gz";
    /// <summary>BIRD RIB with RFC 8050 RIB_IPV4_UNICAST_ADDPATH records.</summary>
    public const string BviewIPv4AddPath = "RIPE-NCC__bgpdump/test_data/bview.ipv4_unicast_add_path.gz";

    /// <summary>The four files of the whole-file throughput and bgpdump comparison, in report order.</summary>
    public static readonly string[] ThroughputFiles =
        [UpdatesEtHeader2015, UpdatesRouteViews2026, BviewTableDump2002, RibIPv6Bz2];

    private static readonly ConcurrentDictionary<string, byte[]> Cache = new();

    public static string PathOf(string relative) => Corpus.PathOf(relative);

    /// <summary>The file as stored (compressed).</summary>
    public static byte[] Raw(string relative) => File.ReadAllBytes(PathOf(relative));

    /// <summary>The decompressed MRT bytes, decoded once per process.</summary>
    public static byte[] Decompressed(string relative) => Cache.GetOrAdd(relative, static r =>
    {
        using var input = MrtInput.Decompress(new MemoryStream(Raw(r), writable: false), readAhead: false);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    });

    /// <summary>A short stable name for reports.</summary>
    public static string ShortName(string relative) => Path.GetFileName(relative);
}
