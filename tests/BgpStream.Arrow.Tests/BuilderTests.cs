namespace BgpStream.Arrow.Tests;

public sealed class BuilderTests
{
    [Fact]
    public void Build_names_the_column_that_missed_a_value()
    {
        var schema = new ArrowSchema([new ArrowField("a", ArrowType.Int32), new ArrowField("b", ArrowType.String)]);
        using var builder = new RecordBatchBuilder(schema);
        builder.Column<PrimitiveColumnBuilder<int>>("a").Append(1);
        builder.EndRow();
        var e = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void Null_into_a_non_nullable_field_is_refused()
    {
        using var builder = new RecordBatchBuilder(new ArrowSchema([new ArrowField("a", ArrowType.Int32, nullable: false)]));
        Assert.Throws<InvalidOperationException>(() => builder[0].AppendNull());
    }

    [Fact]
    public void A_column_builder_of_the_wrong_type_is_refused_with_its_name()
    {
        using var builder = new RecordBatchBuilder(new ArrowSchema([new ArrowField("asn", ArrowType.UInt32)]));
        var e = Assert.Throws<InvalidOperationException>(() => builder.Column<PrimitiveColumnBuilder<int>>("asn"));
        Assert.Contains("asn", e.Message);
    }

    [Fact]
    public void Dictionary_deltas_must_reach_the_writer_in_order()
    {
        var schema = new ArrowSchema([new ArrowField("peer", ArrowType.DictionaryString)]);
        using var builder = new RecordBatchBuilder(schema);
        var peer = builder.Column<DictionaryStringColumnBuilder>(0);
        peer.Append("a");
        builder.EndRow();
        using var first = builder.Build();
        peer.Append("b");
        builder.EndRow();
        using var second = builder.Build();

        using var writer = new ArrowStreamWriter(new MemoryStream(), schema);
        var e = Assert.Throws<InvalidOperationException>(() => writer.WriteRecordBatch(second));
        Assert.Contains("ResetDictionaries", e.Message);

        // A new stream after ResetDictionaries starts the dictionary again.
        builder.ResetDictionaries();
        peer.Append("b");
        builder.EndRow();
        using var fresh = builder.Build();
        writer.WriteRecordBatch(fresh);
        Assert.Equal(1, peer.DictionaryCount);
    }

    [Fact]
    public void Types_print_in_canonical_form()
    {
        Assert.Equal("timestamp[us,UTC]", ArrowType.TimestampMicrosecondUtc.ToString());
        Assert.Equal("list<uint32 not null>", ArrowType.List(ArrowType.UInt32, valuesNullable: false).ToString());
        Assert.Equal("dictionary<int32,utf8>", ArrowType.DictionaryString.ToString());
        Assert.Equal("fixed_size_binary[16]", ArrowType.FixedSizeBinary(16).ToString());
    }
}
