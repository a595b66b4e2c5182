using BgpStream.Fuzzing;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Framing of MRT records (RFC 6396 §2): records in order, and every problem reported with its
/// offset — truncated header or body at the end, corrupt headers skipped by re-synchronising,
/// records whose writers under-declared their length.
/// </summary>
public class MrtReaderTests
{
    internal sealed record Read(long Offset, MrtType Type, ushort Subtype, uint Timestamp, uint Microseconds, long BodyOffset, int BodyLength, string BodyHead);

    internal static (List<Read> Records, List<MrtDiagnostic> Diagnostics, MrtReader Reader) ReadAll(Stream stream)
    {
        var reader = new MrtReader(stream, "test");
        var diagnostics = new List<MrtDiagnostic>();
        reader.Diagnostic = diagnostics.Add;
        var records = new List<Read>();
        while (reader.TryRead(out var r))
            records.Add(new Read(r.Offset, r.Type, r.Subtype, r.Timestamp, r.Microseconds, r.BodyOffset, r.Body.Length,
                Convert.ToHexString(r.Body[..Math.Min(8, r.Body.Length)])));
        Assert.False(reader.TryRead(out _)); // stays at the end
        return (records, diagnostics, reader);
    }

    internal static (List<Read> Records, List<MrtDiagnostic> Diagnostics, MrtReader Reader) ReadAll(byte[] data) =>
        ReadAll(new MemoryStream(data));

    private static readonly byte[] State = MrtBytes.Record(MrtBytes.Time, MrtType.Bgp4mp, 5, MrtBytes.StateChangeAs4);        // 12 + 24 bytes
    private static readonly byte[] Message = MrtBytes.Record(MrtBytes.Time + 1, MrtType.Bgp4mp, 4, MrtBytes.MessageAs4(MrtBytes.Keepalive)); // 12 + 39
    private static readonly byte[] MessageEt = MrtBytes.RecordEt(MrtBytes.Time + 2, 123456, MrtType.Bgp4mpEt, 4, MrtBytes.MessageAs4(MrtBytes.Keepalive)); // 12 + 4 + 39

    [Fact]
    public void Records_in_order_with_offsets_and_timestamps()
    {
        var (records, diagnostics, reader) = ReadAll(MrtBytes.Concat(State, Message, MessageEt));
        Assert.Empty(diagnostics);
        Assert.Equal(
        [
            new Read(0, MrtType.Bgp4mp, 5, MrtBytes.Time, 0, 12, 24, "0000FDE900003039"),
            new Read(36, MrtType.Bgp4mp, 4, MrtBytes.Time + 1, 0, 48, 39, "0000FDE900003039"),
            // RFC 6396 §3: the microsecond field is part of the Length but not of the message field.
            new Read(87, MrtType.Bgp4mpEt, 4, MrtBytes.Time + 2, 123456, 103, 39, "0000FDE900003039"),
        ], records);
        Assert.Equal((3L, 0, 142L), (reader.RecordCount, reader.DiagnosticCount, reader.Position));
    }

    [Fact]
    public void Empty_input_has_no_records_and_no_diagnostics()
    {
        var (records, diagnostics, _) = ReadAll([]);
        Assert.Empty(records);
        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(11)]
    public void Truncated_header_at_the_end_is_reported_with_its_offset(int leftover)
    {
        var data = MrtBytes.Concat(State, Message[..leftover]);
        var (records, diagnostics, _) = ReadAll(data);
        Assert.Single(records);
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.TruncatedHeader, 36L), (d.Kind, d.Offset));
        Assert.Contains($"{leftover} bytes", d.Message);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(30)]
    [InlineData(50)]
    public void Truncated_body_at_the_end_is_reported_with_its_offset(int kept)
    {
        var data = MrtBytes.Concat(State, Message[..kept]); // the header promises 39 body bytes
        var (records, diagnostics, _) = ReadAll(data);
        Assert.Single(records);
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.TruncatedRecord, 36L), (d.Kind, d.Offset));
        Assert.Contains($"39 bytes declared, {kept - 12} present", d.Message);
    }

    [Fact]
    public void Corrupt_header_in_the_middle_is_skipped_to_the_next_record()
    {
        // 100 bytes of 0xEE (type 0xEEEE, length 0xEEEEEEEE: no MRT header), more than the 64 bytes
        // the reader would credit to the previous record as an under-declared length.
        var garbage = Enumerable.Repeat((byte)0xEE, 100).ToArray();
        var data = MrtBytes.Concat(State, garbage, Message, MessageEt);
        var (records, diagnostics, _) = ReadAll(data);
        Assert.Equal([0L, 36L + 100, 87L + 100], records.Select(r => r.Offset));
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.CorruptHeader, 36L), (d.Kind, d.Offset));
        Assert.Contains("type 61166", d.Message);
        Assert.Contains("skipped 100 bytes", d.Message);
    }

    [Fact]
    public void Short_garbage_after_a_record_is_credited_to_that_record_and_reported()
    {
        // Within 64 bytes the reader cannot tell junk from a writer that under-declared the length
        // (the RIPE 2000 quirk): the record is extended to the next plausible header, and says so.
        var garbage = Enumerable.Repeat((byte)0xEE, 37).ToArray();
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, Message, garbage, MessageEt));
        Assert.Equal([(0L, 24), (36L, 39 + 37), (87L + 37, 39)], records.Select(r => (r.Offset, r.BodyLength)));
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.LengthMismatch, 36L), (d.Kind, d.Offset));
        Assert.Contains("37 bytes later", d.Message);
    }

    [Fact]
    public void Unknown_type_and_impossible_length_are_corrupt_headers()
    {
        var filler = Enumerable.Repeat((byte)0xEE, 100).ToArray();                                           // bodies beyond the 64-byte slack
        var unknownType = MrtBytes.Record(MrtBytes.Time, 99, 0, 100, filler);                               // MRT type 99 is unassigned
        var hugeLength = MrtBytes.Record(MrtBytes.Time, (ushort)MrtType.Bgp4mp, 4, 0x7FFF_FFFF, filler);    // 2 GiB: more than any real record
        // Two records first: the resync's timestamp check needs one to compare with (see the skipped
        // resync test for what happens without).
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, State, unknownType, Message, Message, hugeLength, MessageEt));
        Assert.Equal([0L, 36L, 184L, 235L, 286L + 112], records.Select(r => r.Offset));
        Assert.Equal([(MrtDiagnosticKind.CorruptHeader, 72L), (MrtDiagnosticKind.CorruptHeader, 286L)],
            diagnostics.Select(d => (d.Kind, d.Offset)));
    }

    [Fact]
    public void A_lone_record_between_two_damaged_regions_is_skipped_with_them()
    {
        // Re-synchronisation believes a header only when the record after it is plausible too, so a
        // single record wedged between two corrupt regions is counted in the skipped bytes.
        var filler = Enumerable.Repeat((byte)0xEE, 100).ToArray();
        var unknownType = MrtBytes.Record(MrtBytes.Time, 99, 0, 100, filler);
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, State, unknownType, Message, unknownType, MessageEt));
        Assert.Equal([0L, 36L, 72L + 112 + 51 + 112], records.Select(r => r.Offset));
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.CorruptHeader, 72L), (d.Kind, d.Offset));
        Assert.Contains($"skipped {112 + 51 + 112} bytes", d.Message);
    }

    [Fact]
    public void Corrupt_header_with_nothing_after_it_ends_the_input_with_a_report()
    {
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, Enumerable.Repeat((byte)0xEE, 100).ToArray()));
        Assert.Single(records);
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.CorruptHeader, 36L), (d.Kind, d.Offset));
        Assert.Contains("no further record found", d.Message);
    }

    [Fact]
    public void Resync_does_not_stop_at_a_header_with_a_far_away_timestamp()
    {
        // Inside 100 bytes of garbage, a well-formed header dated 1970: not taken for a record,
        // because the file's records are from 2015 (the reader accepts a day of drift).
        var fake = MrtBytes.Record(1000, MrtType.Bgp4mp, 4, [0xEE, 0xEE, 0xEE, 0xEE]);
        var garbage = MrtBytes.Concat(Enumerable.Repeat((byte)0xEE, 70).ToArray(), fake, Enumerable.Repeat((byte)0xEE, 14).ToArray());
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, garbage, Message));
        Assert.Equal([0L, 36L + 100], records.Select(r => r.Offset));
        Assert.Contains("skipped 100 bytes", Assert.Single(diagnostics).Message);
    }

    [Fact]
    public void Resync_prefers_a_chain_of_real_records_to_a_header_that_runs_off_the_end()
    {
        // In 100 bytes of garbage, a header-shaped 12 bytes: a recent timestamp, TABLE_DUMP_V2 /
        // RIB_IPV4_UNICAST, and a length of 1,000,000 that the input cannot hold.
        var fake = MrtBytes.Record(MrtBytes.Time + 1, (ushort)MrtType.TableDumpV2, 2, 1_000_000, []);
        var garbage = MrtBytes.Concat(Enumerable.Repeat((byte)0xEE, 20).ToArray(), fake, Enumerable.Repeat((byte)0xEE, 68).ToArray());
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, Message, garbage, Message, MessageEt));
        Assert.Equal([0L, 36L, 87L + 100, 138L + 100], records.Select(r => r.Offset));
        Assert.Equal(MrtDiagnosticKind.CorruptHeader, Assert.Single(diagnostics).Kind);
    }

    [Fact]
    public void Length_declared_four_bytes_short_is_extended_to_the_next_record()
    {
        // The RIPE 2000 quirk: the writer declared each record 4 bytes shorter than it wrote.
        var body = MrtBytes.MessageAs4(MrtBytes.Keepalive);
        var shortDeclared = MrtBytes.Record(MrtBytes.Time, (ushort)MrtType.Bgp4mp, 4, (uint)body.Length - 4, body);
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(shortDeclared, State, Message));
        Assert.Equal([(0L, 39), (51L, 24), (87L, 39)], records.Select(r => (r.Offset, r.BodyLength)));
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.LengthMismatch, 0L), (d.Kind, d.Offset));
        Assert.Contains("declares 35 bytes but the next record starts 4 bytes later", d.Message);
    }

    [Fact]
    public void Short_declared_last_record_takes_its_tail_when_it_cannot_start_a_record()
    {
        // With no record after it, the 4 bytes left over (the end of a KEEPALIVE marker, not a
        // timestamp near the record's) are its own tail: read with it, and reported.
        var body = MrtBytes.MessageAs4(MrtBytes.Keepalive);
        var shortDeclared = MrtBytes.Record(MrtBytes.Time, (ushort)MrtType.Bgp4mp, 4, (uint)body.Length - 4, body);
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, shortDeclared));
        Assert.Equal([24, 39], records.Select(r => r.BodyLength));
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.LengthMismatch, 36L), (d.Kind, d.Offset));
        Assert.Contains("4 more bytes follow it at the end of the input", d.Message);
    }

    [Fact]
    public void Extended_timestamp_record_shorter_than_its_microseconds_is_reported_and_skipped()
    {
        var tooShort = MrtBytes.Record(MrtBytes.Time, MrtType.Bgp4mpEt, 4, [0x00, 0x01]); // Length 2: not even the microsecond field
        var (records, diagnostics, _) = ReadAll(MrtBytes.Concat(State, tooShort, Message));
        Assert.Equal([0L, 50L], records.Select(r => r.Offset));
        var d = Assert.Single(diagnostics);
        Assert.Equal((MrtDiagnosticKind.CorruptHeader, 36L), (d.Kind, d.Offset));
        Assert.Contains("length 2 < 4", d.Message);
    }

    [Theory]
    [InlineData(70_000)]      // more than 64 KiB, as bview.64k_stream_overflow's RIB record
    [InlineData(3_000_000)]   // more than the reader's initial 1 MiB buffer
    public void Large_records_are_read_whole(int length)
    {
        var body = new byte[length];
        for (int i = 0; i < body.Length; i++) body[i] = (byte)(i * 7);
        var big = MrtBytes.Record(MrtBytes.Time, (ushort)MrtType.TableDumpV2, 4, (uint)length, body);
        var reader = new MrtReader(new NonSeekableStream(MrtBytes.Concat(State, big, Message), maxRead: 65536), "test");
        Assert.True(reader.TryRead(out _));
        Assert.True(reader.TryRead(out var record));
        Assert.True(record.Body.SequenceEqual(body));
        Assert.True(reader.TryRead(out var after));
        Assert.Equal(36L + 12 + length, after.Offset);
        Assert.Equal(0, reader.DiagnosticCount);
    }

    [Fact]
    public void Non_seekable_stream_in_one_byte_reads_gives_the_same_result()
    {
        // Standard input cannot seek and may return very little per read.
        var garbage = Enumerable.Repeat((byte)0xEE, 100).ToArray();
        var body = MrtBytes.MessageAs4(MrtBytes.Keepalive);
        var shortDeclared = MrtBytes.Record(MrtBytes.Time, (ushort)MrtType.Bgp4mp, 4, (uint)body.Length - 4, body);
        var data = MrtBytes.Concat(State, garbage, Message, shortDeclared, MessageEt, Message[..20]);
        var fromMemory = ReadAll(data);
        var fromPipe = ReadAll(new NonSeekableStream(data, maxRead: 1));
        Assert.Equal(fromMemory.Records, fromPipe.Records);
        Assert.Equal(fromMemory.Diagnostics.Select(d => (d.Kind, d.Offset, d.Message)), fromPipe.Diagnostics.Select(d => (d.Kind, d.Offset, d.Message)));
        Assert.Equal([MrtDiagnosticKind.CorruptHeader, MrtDiagnosticKind.LengthMismatch, MrtDiagnosticKind.TruncatedRecord],
            fromPipe.Diagnostics.Select(d => d.Kind));
    }

    [Fact]
    public void Diagnostics_are_counted_without_a_handler()
    {
        using var reader = new MrtReader(new MemoryStream(MrtBytes.Concat(State, Message[..20])), "test");
        while (reader.TryRead(out _)) { }
        Assert.Equal((1L, 1), (reader.RecordCount, reader.DiagnosticCount));
    }

    [Fact]
    public void Dispose_closes_the_stream_unless_asked_to_leave_it_open()
    {
        var a = new MemoryStream(State);
        new MrtReader(a, "a").Dispose();
        Assert.False(a.CanRead);
        var b = new MemoryStream(State);
        new MrtReader(b, "b", leaveOpen: true).Dispose();
        Assert.True(b.CanRead);
    }
}
