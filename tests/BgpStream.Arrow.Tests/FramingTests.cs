using System.Buffers.Binary;
using BgpStream.Arrow.FlatBuffers;

namespace BgpStream.Arrow.Tests;

public sealed class FramingTests
{
    [Fact]
    public void FlatBuffer_tables_read_back_with_an_independent_reader()
    {
        var fb = new FlatBufferBuilder(16); // small, so that it has to grow
        int name = fb.CreateString("grüße");
        fb.StartVector(16, 2, 8);
        for (int i = 1; i >= 0; i--)
        {
            fb.StartStruct(8, 16);
            fb.StructInt64(100 + i);
            fb.StructInt64(i);
        }
        int structs = fb.EndVector(2);
        fb.StartTable(0);
        int empty = fb.EndTable();
        int tables = fb.CreateOffsetVector([empty, empty, empty]);
        fb.StartTable(6);
        fb.AddInt16(0, -2);
        fb.AddOffset(1, name);
        fb.AddInt64(2, long.MinValue);
        fb.AddByte(3, 7);
        fb.AddOffset(4, structs);
        // slot 5 absent
        int root = fb.EndTable();
        int outer = root;
        var bytes = fb.Finish(outer).ToArray();

        Assert.Equal(0, bytes.Length % 8);
        var table = FlatTable.Root(bytes);
        Assert.Equal(0, table.Position % 4);
        Assert.Equal(-2, table.Int16(0));
        Assert.Equal("grüße", table.String(1));
        Assert.Equal(long.MinValue, table.Int64(2));
        Assert.Equal(7, table.Byte(3));
        Assert.False(table.Has(5));
        var (count, start) = table.Vector(4);
        Assert.Equal(2, count);
        Assert.Equal(0, start % 8);
        Assert.Equal(1, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(start + 16)));
        Assert.Equal(101, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(start + 24)));
        _ = tables;
    }

    private static ArrowSchema Schema => new([new ArrowField("n", ArrowType.Int32), new ArrowField("peer", ArrowType.DictionaryString)]);

    private static byte[] Write(ArrowIpcFormat format, params string[][] batches)
    {
        var schema = Schema;
        var stream = new MemoryStream();
        using IArrowBatchSink writer = format == ArrowIpcFormat.File ? new ArrowFileWriter(stream, schema, leaveOpen: true) : new ArrowStreamWriter(stream, schema, leaveOpen: true);
        using var builder = new RecordBatchBuilder(schema);
        foreach (var peers in batches)
        {
            foreach (var peer in peers)
            {
                builder.Column<PrimitiveColumnBuilder<int>>(0).Append(peer.Length);
                builder.Column<DictionaryStringColumnBuilder>(1).Append(peer);
                builder.EndRow();
            }
            using var batch = builder.Build();
            writer.WriteRecordBatch(batch);
        }
        writer.WriteEnd();
        return stream.ToArray();
    }

    [Fact]
    public void File_footer_blocks_point_at_the_messages()
    {
        var layout = IpcLayout.ReadFile(Write(ArrowIpcFormat.File, ["a", "b"], [], ["a", "c", "d"]));
        // schema, dictionary (a, b), batch, batch (0 rows, no new entries), delta (c, d), batch
        Assert.Equal([1, 2, 3, 3, 2, 3], layout.Messages.Select(m => (int)m.HeaderType));
        Assert.Equal([0L, 2, 2, 0, 2, 3], layout.Messages.Select(m => m.Rows));
        Assert.Equal(layout.Messages.Where(m => m.HeaderType == 2).Select(m => (m.Offset, m.MetadataLength, m.BodyLength)), layout.FooterDictionaries);
        Assert.Equal(layout.Messages.Where(m => m.HeaderType == 3).Select(m => (m.Offset, m.MetadataLength, m.BodyLength)), layout.FooterRecordBatches);
    }

    [Fact]
    public void Stream_is_schema_dictionaries_batches_and_end_marker()
    {
        var layout = IpcLayout.ReadStream(Write(ArrowIpcFormat.Stream, ["x"], ["y"]));
        Assert.Equal([1, 2, 3, 2, 3], layout.Messages.Select(m => (int)m.HeaderType));
    }

    [Fact]
    public void A_writer_ended_without_batches_writes_one_empty_batch()
    {
        var layout = IpcLayout.ReadStream(Write(ArrowIpcFormat.Stream));
        Assert.Equal([1, 2, 3], layout.Messages.Select(m => (int)m.HeaderType));
        Assert.Equal([0L], layout.RecordBatchLengths);
    }
}
