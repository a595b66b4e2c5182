using System.IO.Compression;
using BgpStream.Fuzzing;
using BgpStream.TestSupport;
using ICSharpCode.SharpZipLib.BZip2;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Plain, gzip (RIS) and bzip2 (RouteViews) input told apart by magic bytes, from seekable files
/// and from non-seekable streams like standard input; damaged compressed data is reported as
/// CompressedStreamError with the decompressed offset, never as an exception or a silent end.
/// </summary>
public class MrtInputTests
{
    /// <summary>600 records (~35 KB) of three kinds, timestamps a second apart.</summary>
    private static readonly byte[] Plain = BuildRecords(600);

    private static byte[] BuildRecords(int count)
    {
        var parts = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            uint ts = MrtBytes.Time + (uint)i;
            parts.Add((i % 3) switch
            {
                0 => MrtBytes.Record(ts, MrtType.Bgp4mp, 5, MrtBytes.StateChangeAs4),
                1 => MrtBytes.Record(ts, MrtType.Bgp4mp, 4, MrtBytes.MessageAs4(MrtBytes.Keepalive)),
                _ => MrtBytes.RecordEt(ts, (uint)i, MrtType.Bgp4mpEt, 4, MrtBytes.MessageAs4(MrtBytes.Keepalive)),
            });
        }
        return MrtBytes.Concat([.. parts]);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(data);
        return output.ToArray();
    }

    /// <summary>bzip2 with 100k blocks (level 1), so that a few hundred KB span several independently checked blocks.</summary>
    private static byte[] Bzip2(byte[] data)
    {
        using var output = new MemoryStream();
        using (var bz = new BZip2OutputStream(output, blockSize: 1) { IsStreamOwner = false }) bz.Write(data);
        return output.ToArray();
    }

    private static (List<MrtReaderTests.Read> Records, List<MrtDiagnostic> Diagnostics) Read(byte[] file, bool readAhead = true) =>
        Bounded.Run(TimeSpan.FromSeconds(30), () =>
        {
            var (records, diagnostics, reader) = MrtReaderTests.ReadAll(MrtInput.Decompress(new NonSeekableStream(file, maxRead: 1000), readAhead));
            reader.Dispose();
            return (records, diagnostics);
        }, "reading the input");

    public static TheoryData<string, bool> Formats => new()
    {
        { "plain", false }, { "gzip", false }, { "gzip", true }, { "bzip2", false }, { "bzip2", true },
    };

    private static byte[] Encode(string format, byte[] data) => format switch
    {
        "gzip" => Gzip(data),
        "bzip2" => Bzip2(data),
        _ => data,
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Every_format_from_a_non_seekable_stream_gives_the_same_records(string format, bool readAhead)
    {
        var expected = MrtReaderTests.ReadAll(Plain).Records;
        Assert.Equal(600, expected.Count);
        var (records, diagnostics) = Read(Encode(format, Plain), readAhead);
        Assert.Empty(diagnostics);
        Assert.Equal(expected, records);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("bzip2")]
    public void Concatenated_members_are_read_in_turn(string format)
    {
        // pigz / pbzip2 / lbzip2 output and `cat a.gz b.gz`.
        var half = Plain.Length / 2;
        var split = MrtReaderTests.ReadAll(Plain).Records.First(r => r.Offset >= half).Offset;
        var file = MrtBytes.Concat(Encode(format, Plain[..(int)split]), Encode(format, Plain[(int)split..]));
        var (records, diagnostics) = Read(file);
        Assert.Empty(diagnostics);
        Assert.Equal(600, records.Count);
    }

    [Theory]
    [InlineData("gzip", 0.5)]
    [InlineData("gzip", 0.9)]
    [InlineData("gzip", 0.999)]
    [InlineData("bzip2", 0.5)]
    [InlineData("bzip2", 0.97)]
    public void Truncated_compressed_stream_is_reported(string format, double keep)
    {
        var file = Encode(format, Plain);
        var cut = file[..(int)(file.Length * keep)];
        var (records, diagnostics) = Read(cut);
        var error = Assert.Single(diagnostics, d => d.Kind == MrtDiagnosticKind.CompressedStreamError);
        Assert.InRange(error.Offset, 0, Plain.Length);
        // What was decoded before the cut is delivered, record for record.
        // (A cut inside gzip's 8-byte trailer loses no data but is reported all the same.)
        var expected = MrtReaderTests.ReadAll(Plain).Records;
        Assert.True(records.Count <= expected.Count);
        Assert.Equal(expected.Take(records.Count), records);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("bzip2")]
    public void Corrupt_compressed_data_is_reported_and_what_follows_is_real_records(string format)
    {
        var file = Encode(format, BuildRecords(6000)); // ~350 KB: room for damage in the middle
        var expected = MrtReaderTests.ReadAll(BuildRecords(6000)).Records;
        for (int i = file.Length / 2; i < file.Length / 2 + 16; i++) file[i] ^= 0x5A;
        var (records, diagnostics) = Read(file);
        Assert.Contains(diagnostics, d => d.Kind == MrtDiagnosticKind.CompressedStreamError);
        Assert.All(diagnostics, d => Assert.InRange(d.Offset, 0, expected[^1].Offset + 55));
        Assert.True(records.Count < expected.Count);
        int intact = records.Zip(expected).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(intact > expected.Count / 3, $"only {intact} records before the damage");
        if (format == "bzip2")
        {
            // Each bzip2 block has its own CRC: a damaged block is dropped whole (reading may resume
            // after it) and every record delivered is one that was written.
            var written = expected.Select(r => (r.Type, r.Timestamp, r.BodyHead, r.BodyLength)).ToHashSet();
            Assert.All(records, r => Assert.Contains((r.Type, r.Timestamp, r.BodyHead, r.BodyLength), written));
            // The parallel decoder goes on after the damaged block and the reader re-synchronises.
            if (BgpStream.Mrt.Bzip2.DecodesInParallel) Assert.True(records.Count > intact, "nothing read after the damaged block");
        }
        // gzip has one CRC per member, checked at its end: bytes inflated from the damaged region reach
        // the reader before the error is known, so a few records after the damage may be junk.
    }

    [Theory]
    [InlineData(new byte[0], 0)]
    [InlineData(new byte[] { 0x1F }, 1)]             // half a gzip magic: plain, one truncated header byte
    [InlineData(new byte[] { 0x42, 0x5A }, 1)]       // "BZ" without "h": plain
    public void Inputs_shorter_than_a_magic_number_are_plain(byte[] input, int diagnostics)
    {
        var (records, found) = Read(input);
        Assert.Empty(records);
        Assert.Equal(diagnostics, found.Count);
        Assert.All(found, d => Assert.Equal(MrtDiagnosticKind.TruncatedHeader, d.Kind));
    }

    [Fact]
    public void Gzip_of_nothing_is_no_records_and_no_diagnostics()
    {
        var (records, diagnostics) = Read(Gzip([]));
        Assert.Empty(records);
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void Corpus_files_open_by_path_in_each_format()
    {
        // Plain (mrtparse), gzip (RIS via bgpdump) and bzip2 (bgpkit), each against reference-counts.json's walk.
        foreach (var (path, records) in new[]
        {
            ("t2mune__mrtparse/samples/quagga_bgp", 67L),
            ("RIPE-NCC__bgpdump/test_data/updates.20020722.2238.gz", 1121L),
            ("bgpkit__bgpkit-parser/examples/local_only/updates.bz2", 85L),
        })
        {
            using var reader = MrtReader.Open(Corpus.PathOf(path));
            while (reader.TryRead(out _)) { }
            Assert.Equal((records, 0), (reader.RecordCount, reader.DiagnosticCount));
        }
    }

    [Fact]
    public void Corpus_gzip_read_through_a_pipe_equals_reading_the_file()
    {
        // What `zcat | bgpstream -` and `bgpstream file.gz` see must be the same.
        const string path = "RIPE-NCC__bgpdump/test_data/updates.20070211.0141.gz";
        var (fromPipe, diagnostics) = Read(File.ReadAllBytes(Corpus.PathOf(path)));
        Assert.Empty(diagnostics);
        using var file = MrtReader.Open(Corpus.PathOf(path));
        int i = 0;
        while (file.TryRead(out var r))
        {
            Assert.Equal(fromPipe[i].Offset, r.Offset);
            Assert.Equal(fromPipe[i].BodyLength, r.Body.Length);
            i++;
        }
        Assert.Equal(23394, i);
        Assert.Equal(fromPipe.Count, i);
    }
}
