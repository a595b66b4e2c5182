namespace BgpStream.Arrow.Tests;

public sealed class AllocationTests
{
    /// <summary>
    /// Appending fixed-width values allocates nothing per value: once the pool holds arrays of the
    /// size a batch reaches (the first round), 1M more appends allocate O(1) bytes, far below the
    /// 8 MB the values themselves take.
    /// </summary>
    [Fact]
    public void Appending_a_million_fixed_width_values_allocates_O_1()
    {
        var schema = new ArrowSchema([
            new ArrowField("asn", ArrowType.UInt32),
            new ArrowField("time", ArrowType.TimestampMicrosecondUtc),
            new ArrowField("withdrawn", ArrowType.Boolean),
        ]);
        using var builder = new RecordBatchBuilder(schema);
        var asn = builder.Column<PrimitiveColumnBuilder<uint>>(0);
        var time = builder.Column<TimestampColumnBuilder>(1);
        var withdrawn = builder.Column<BooleanColumnBuilder>(2);
        const int count = 1_000_000;

        void AppendRows()
        {
            for (int i = 0; i < count; i++)
            {
                if (i % 100 == 0) asn.AppendNull(); else asn.Append((uint)i);
                time.Append(1_767_225_600_000_000L + i);
                withdrawn.Append((i & 1) == 0);
                builder.EndRow();
            }
        }

        AppendRows(); // warms the pool and the JIT
        builder.Build().Dispose();

        long before = GC.GetAllocatedBytesForCurrentThread();
        AppendRows();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        using var batch = builder.Build();

        Assert.Equal(count, batch.Length);
        Assert.True(allocated < 64 * 1024, $"appending {count} rows allocated {allocated} bytes");
    }
}
