using System.IO.Compression;
using BgpStream.Mrt;
using BgpStream.TestSupport;
using ICSharpCode.SharpZipLib.BZip2;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Damaged gzip and bzip2 input: what was decoded before the damage is read, the damage is
/// reported, and for bzip2 (independent blocks) reading goes on after the damaged block.
/// </summary>
public class DamagedCompressionTests
{
    // 2.4 MB of real RIS updates (2007): many 100 kB bzip2 blocks.
    private static readonly Lazy<byte[]> Plain = new(() =>
    {
        using var input = MrtInput.Open(Corpus.PathOf("RIPE-NCC__bgpdump/test_data/updates.20070211.0141.gz"));
        using var copy = new MemoryStream();
        input.CopyTo(copy);
        return copy.ToArray();
    });

    private static (long Records, List<MrtDiagnostic> Diagnostics) ReadAll(byte[] file)
    {
        var diagnostics = new List<MrtDiagnostic>();
        using var reader = new MrtReader(MrtInput.Decompress(new MemoryStream(file)), "test") { Diagnostic = diagnostics.Add };
        while (reader.TryRead(out _)) { }
        return (reader.RecordCount, diagnostics);
    }

    private static byte[] Bzip2WithSmallBlocks(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var bz = new BZip2OutputStream(output, 1) { IsStreamOwner = false }) bz.Write(plain);
        return output.ToArray();
    }

    [Fact]
    public void Intact_bzip2_reads_every_record()
    {
        var (records, diagnostics) = ReadAll(Bzip2WithSmallBlocks(Plain.Value));
        Assert.Empty(diagnostics);
        Assert.Equal(23394, records); // SOURCES.md: 23,394 records in updates.20070211.0141
    }

    [Fact]
    public void A_damaged_bzip2_block_is_skipped_and_reading_goes_on()
    {
        var file = Bzip2WithSmallBlocks(Plain.Value);
        file[file.Length / 2] ^= 0x5A; // inside one block in the middle of the file
        var (records, diagnostics) = ReadAll(file);

        Assert.Contains(diagnostics, d => d.Kind == MrtDiagnosticKind.CompressedStreamError && d.Message.Contains("damaged"));
        // One 100 kB block holds roughly 1,000 of these records: most of the file survives.
        Assert.InRange(records, 23394 - 3000, 23394 - 1);
        Assert.True(records > 15000, $"only {records} records read: reading did not go on after the damage");
    }

    [Fact]
    public void A_truncated_bzip2_file_is_reported()
    {
        var file = Bzip2WithSmallBlocks(Plain.Value);
        var (records, diagnostics) = ReadAll(file[..(file.Length * 2 / 3)]);
        Assert.Contains(diagnostics, d => d.Kind == MrtDiagnosticKind.CompressedStreamError);
        Assert.InRange(records, 10000, 23393);
    }

    [Fact]
    public void A_gzip_file_cut_in_its_trailer_is_reported_after_every_record()
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Plain.Value);
        var file = output.ToArray()[..^4]; // the decompressed data is whole; only ISIZE is missing

        var (records, diagnostics) = ReadAll(file);
        Assert.Equal(23394, records);
        var d = Assert.Single(diagnostics);
        Assert.Equal(MrtDiagnosticKind.CompressedStreamError, d.Kind);
        Assert.Contains("truncated", d.Message);
    }

    [Fact]
    public void A_gzip_file_cut_in_the_middle_is_reported()
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Plain.Value);
        var file = output.ToArray();
        var (records, diagnostics) = ReadAll(file[..(file.Length / 2)]);
        Assert.Contains(diagnostics, d => d.Kind == MrtDiagnosticKind.CompressedStreamError);
        Assert.InRange(records, 5000, 23393);
    }
}
