namespace BgpStream.Arrow.Tests;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-arrow-atomic-").FullName;
    private static readonly ArrowSchema Schema = new([new ArrowField("n", ArrowType.Int32)]);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RecordBatch Batch(RecordBatchBuilder builder, params int[] values)
    {
        foreach (var v in values)
        {
            builder.Column<PrimitiveColumnBuilder<int>>(0).Append(v);
            builder.EndRow();
        }
        return builder.Build();
    }

    [Fact]
    public void The_file_appears_only_when_complete()
    {
        string path = Path.Combine(_dir, "updates.arrow");
        using var builder = new RecordBatchBuilder(Schema);
        using (var file = AtomicArrowFile.Create(path, Schema))
        {
            using (var batch = Batch(builder, 1, 2, 3)) file.WriteRecordBatch(batch);
            Assert.False(File.Exists(path));
            Assert.True(File.Exists(path + ".tmp"));
            file.WriteEnd();
            Assert.True(File.Exists(path));
            Assert.False(File.Exists(path + ".tmp"));
        }
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("ARROW1"u8.ToArray(), bytes[..6]);
        Assert.Equal("ARROW1"u8.ToArray(), bytes[^6..]);
    }

    [Fact]
    public void Replacing_an_existing_file_is_atomic_too()
    {
        string path = Path.Combine(_dir, "updates.arrows");
        File.WriteAllText(path, "old");
        using var builder = new RecordBatchBuilder(Schema);
        using (var file = AtomicArrowFile.Create(path, Schema, ArrowIpcFormat.Stream))
        {
            using var batch = Batch(builder, 1);
            file.WriteRecordBatch(batch);
            Assert.Equal("old", File.ReadAllText(path));
        }
        Assert.NotEqual("old"u8.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Dispose_after_a_failed_write_publishes_nothing()
    {
        string path = Path.Combine(_dir, "broken.arrow");
        var other = new ArrowSchema([new ArrowField("n", ArrowType.Int32)]);
        using var builder = new RecordBatchBuilder(other);
        using (var file = AtomicArrowFile.Create(path, Schema))
        {
            using var batch = Batch(builder, 1);
            Assert.Throws<ArgumentException>(() => file.WriteRecordBatch(batch)); // built for another schema
        }
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Abort_deletes_the_temporary_file()
    {
        string path = Path.Combine(_dir, "aborted.arrow");
        var file = AtomicArrowFile.Create(path, Schema);
        file.Abort();
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Row_writer_flushes_every_N_rows_and_publishes_on_complete()
    {
        string path = Path.Combine(_dir, "rows.arrow");
        using var rows = new ArrowRowWriter(AtomicArrowFile.Create(path, Schema), rowsPerBatch: 4);
        var n = rows.Columns.Column<PrimitiveColumnBuilder<int>>("n");
        for (int i = 0; i < 10; i++)
        {
            n.Append(i);
            rows.EndRow();
            Assert.Equal((i + 1) % 4, rows.Columns.Length);
        }
        rows.Complete();
        var layout = IpcLayout.ReadFile(File.ReadAllBytes(path));
        Assert.Equal([4L, 4L, 2L], layout.RecordBatchLengths);
    }
}
