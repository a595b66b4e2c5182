using System.Buffers.Binary;
using System.IO.Compression;

namespace BgpStream.TestSupport;

/// <summary>One MRT record as it sits in the file: the 12-byte header and the body.</summary>
public sealed record MrtRawRecord(string Source, long Offset, ushort Type, ushort Subtype, byte[] Bytes)
{
    public ReadOnlySpan<byte> Body => Bytes.AsSpan(12);
}

/// <summary>A sample input for property tests and the fuzzer, named by where it came from.</summary>
public sealed record Sample(string Source, byte[] Bytes)
{
    public override string ToString() => $"{Source} ({Bytes.Length} bytes)";
}

/// <summary>
/// Real inputs taken from the corpus for mutation: BGP messages (captures, ExaBGP vectors, BGP4MP
/// records), MRT records and small whole MRT files. Extraction here is deliberately independent of
/// the code under test (a strict header walk, marker/length framing), so a bug there cannot hide
/// samples from the tests. Loaded once per process.
/// </summary>
public static class CorpusSamples
{
    /// <summary>MRT files whose first records feed the samples: every record family the readers decode.</summary>
    public static readonly string[] MrtSampleFiles =
    [
        "RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz",      // BGP4MP MESSAGE_AS4, IPv4 + IPv6 MP
        "RIPE-NCC__bgpdump/test_data/updates.20070211.0141.gz",      // BGP4MP MESSAGE, multicast MP_REACH
        "RIPE-NCC__bgpdump/test_data/updates.20020722.2238.gz",      // OPEN / NOTIFICATION / KEEPALIVE
        "RIPE-NCC__bgpdump/test_data/updates.et-header.2015.gz",     // BGP4MP_ET
        "RIPE-NCC__bgpdump/test_data/bview.20020722.2337.gz",        // TABLE_DUMP v1
        "RIPE-NCC__bgpdump/test_data/bview.ipv4_unicast_add_path.gz",// TABLE_DUMP_V2 ADD-PATH
        "RIPE-NCC__bgpdump/test_data/bview.ipv6_unicast_add_path.gz",
        "DevQps__bgp-rs/res/mrt/updates.20190101.0000.gz",           // large communities
        "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/1999.12/updates.19991214.1621.gz", // deprecated BGP type
        "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc01/2000.11/updates.20001104.0124.gz", // Zebra short records
        "t2mune__mrtparse/samples/openbgpd_bgp",                     // VPNv4 MP, OPENs with ADD-PATH
        "t2mune__mrtparse/samples/quagga_bgp",                       // ROUTE-REFRESH, VPNv4
        "t2mune__mrtparse/samples/bird_bgp",                         // ADD-PATH in plain MESSAGE_AS4
        "t2mune__mrtparse/samples/bird6-mrtdump_bgp",                // MESSAGE_AS4_ADDPATH
        "t2mune__mrtparse/samples/openbgpd_rib_table-v2",            // RIB_GENERIC VPNv4
        "t2mune__mrtparse/samples/openbgpd_rib_table",               // TABLE_DUMP v1 IPv6
        "t2mune__mrtparse/samples/openbgpd_rib_table-mp",            // BGP4MP_ENTRY
        "t2mune__mrtparse/samples/quagga_rib",
        "t2mune__mrtparse/samples/quagga_bgp_large_communities",
        "t2mune__mrtparse/samples/bird-mrtdump_rib",
        "RIPE-NCC__bgpdump/test_data/updates.long_withdrawal.gz",    // 36,894-byte extended UPDATE
        "RIPE-NCC__bgpdump/test_data/bview.64k_stream_overflow.gz",  // 69,700-byte RIB record
        "RIPE-NCC__bgpdump/test_data/updates.nlri_mask_trailing_bits.gz", // dangling NLRI length byte
    ];

    /// <summary>Whole small MRT files, mutated as byte streams for the MRT reader's framing and resync.</summary>
    public static readonly string[] MrtStreamFiles =
    [
        "t2mune__mrtparse/samples/bird_bgp",
        "t2mune__mrtparse/samples/bird-mrtdump_rib",
        "t2mune__mrtparse/samples/openbgpd_rib_table-v2",
        "t2mune__mrtparse/samples/quagga_bgp_large_communities",
        "t2mune__mrtparse/samples/quagga_rib",
        "t2mune__mrtparse/samples/openbgpd_rib_table",
        "RIPE-NCC__bgpdump/test_data/updates.nlri_mask_trailing_bits.gz",
    ];

    private static readonly Lazy<IReadOnlyList<Sample>> Messages = new(LoadMessages);
    private static readonly Lazy<IReadOnlyList<MrtRawRecord>> Records = new(() => LoadRecords(60));
    private static readonly Lazy<IReadOnlyList<Sample>> Streams = new(() =>
        MrtStreamFiles.Select(f => new Sample(f, ReadMrtBytes(f, maxBytes: 16 * 1024))).ToList());

    /// <summary>BGP messages (header included) from every capture, every whole-message ExaBGP vector and the first BGP4MP messages of the MRT sample files.</summary>
    public static IReadOnlyList<Sample> BgpMessages => Messages.Value;

    /// <summary>The first records (at most 60) of each MRT sample file.</summary>
    public static IReadOnlyList<MrtRawRecord> MrtRecords => Records.Value;

    /// <summary>The first 16 KiB of small MRT files, decompressed.</summary>
    public static IReadOnlyList<Sample> MrtStreams => Streams.Value;

    /// <summary>Decompresses (gzip) or reads a corpus MRT file; bzip2 is not handled here.</summary>
    public static byte[] ReadMrtBytes(string relative, int maxBytes = int.MaxValue)
    {
        using var file = File.OpenRead(Corpus.PathOf(relative));
        Stream input = relative.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while (output.Length < maxBytes && (n = input.Read(buffer, 0, buffer.Length)) > 0) output.Write(buffer, 0, n);
        var all = output.ToArray();
        return all.Length > maxBytes ? all[..maxBytes] : all;
    }

    /// <summary>Walks records by their declared lengths and stops at the first header that is cut short.</summary>
    public static IEnumerable<MrtRawRecord> WalkMrt(string relative, int maxRecords)
    {
        var data = ReadMrtBytes(relative, maxBytes: 8 * 1024 * 1024);
        long pos = 0;
        int count = 0;
        while (count < maxRecords && data.Length - pos >= 12)
        {
            var h = data.AsSpan((int)pos);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(h[8..]);
            if (length > data.Length - pos - 12) yield break;
            yield return new MrtRawRecord(relative, pos, BinaryPrimitives.ReadUInt16BigEndian(h[4..]),
                BinaryPrimitives.ReadUInt16BigEndian(h[6..]), data.AsSpan((int)pos, 12 + (int)length).ToArray());
            pos += 12 + length;
            count++;
        }
    }

    /// <summary>
    /// The BGP message inside a BGP4MP / BGP4MP_ET MESSAGE record (RFC 6396 §4.4.2–4.4.3, RFC 8050):
    /// after the peer and local AS (2 or 4 octets), interface index, AFI and the two addresses.
    /// </summary>
    public static byte[]? MessageOfBgp4mp(MrtRawRecord record)
    {
        if (record.Type is not (16 or 17)) return null;
        var body = record.Body;
        if (record.Type == 17)
        {
            if (body.Length < 4) return null;
            body = body[4..];
        }
        int asSize = record.Subtype switch { 1 or 6 or 8 or 10 => 2, 4 or 7 or 9 or 11 => 4, _ => 0 };
        if (asSize == 0 || body.Length < 2 * asSize + 4) return null;
        int afi = BinaryPrimitives.ReadUInt16BigEndian(body[(2 * asSize + 2)..]);
        int addr = afi switch { 1 => 4, 2 => 16, _ => -1 };
        int at = 2 * asSize + 4 + 2 * addr;
        if (addr < 0 || body.Length < at + 19) return null;
        return body[at..].ToArray();
    }

    /// <summary>
    /// Splits a BGP byte stream at marker + length boundaries; junk before a marker is skipped, as
    /// tcpdump does. Only whole messages are returned.
    /// </summary>
    public static IEnumerable<byte[]> SplitBgpStream(byte[] stream)
    {
        int pos = 0;
        while (stream.Length - pos >= 19)
        {
            bool marker = stream.AsSpan(pos, 16).IndexOfAnyExcept((byte)0xFF) < 0;
            int length = BinaryPrimitives.ReadUInt16BigEndian(stream.AsSpan(pos + 16));
            if (marker && length >= 19 && length <= stream.Length - pos)
            {
                yield return stream.AsSpan(pos, length).ToArray();
                pos += length;
                continue;
            }
            int next = stream.AsSpan(pos + 1).IndexOf(MarkerBytes);
            if (next < 0) yield break;
            pos += 1 + next;
        }
    }

    private static readonly byte[] MarkerBytes = Enumerable.Repeat((byte)0xFF, 16).ToArray();

    /// <summary>Every capture of the corpus (tcpdump tests and bgp-rs), as paths relative to the corpus root.</summary>
    public static IReadOnlyList<string> CaptureFiles()
    {
        var tcpdump = Directory.EnumerateFiles(Corpus.PathOf("the-tcpdump-group__tcpdump/tests"))
            .Where(p => p.EndsWith(".pcap", StringComparison.Ordinal) || p.EndsWith(".pcapng", StringComparison.Ordinal));
        var bgprs = Directory.EnumerateFiles(Corpus.PathOf("DevQps__bgp-rs/res/pcap"), "*.cap");
        return tcpdump.Concat(bgprs).Select(p => Path.GetRelativePath(Corpus.Root, p).Replace('\\', '/'))
            .OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    private static IReadOnlyList<Sample> LoadMessages()
    {
        var samples = new List<Sample>();
        foreach (var capture in CaptureFiles())
        {
            foreach (var flow in PcapBgp.Streams(Corpus.PathOf(capture)))
                foreach (var chunk in flow.Chunks)
                {
                    int i = 0;
                    foreach (var message in SplitBgpStream(chunk.Data))
                        samples.Add(new Sample($"{capture} {flow.Source}->{flow.Destination} #{i++}", message));
                }
        }
        foreach (var vector in ExaBgpVector.All().Where(v => v.IsWholeMessage))
            samples.Add(new Sample($"exabgp {vector.Name}", vector.Bytes));
        foreach (var file in MrtSampleFiles)
        {
            int i = 0;
            foreach (var record in WalkMrt(file, 400))
            {
                var message = MessageOfBgp4mp(record);
                if (message is null) continue;
                samples.Add(new Sample($"{file} @{record.Offset}", message));
                if (++i == 150) break;
            }
        }
        return samples;
    }

    private static IReadOnlyList<MrtRawRecord> LoadRecords(int perFile) =>
        MrtSampleFiles.SelectMany(f => WalkMrt(f, perFile)).ToList();
}
