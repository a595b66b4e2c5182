using System.Net;

namespace BgpStream.Arrow.Tests;

/// <summary>
/// Files the reader tests write, with the values they must read back. Each case is a schema and its
/// batches of rows; a row holds one CLR value per column (null for null): the integer type of the
/// column, double, bool, long (raw timestamp units), string, byte[], IPAddress (FixedSizeBinary(16)),
/// uint[] or string?[] (lists).
/// </summary>
public sealed record Case(string Name, ArrowSchema Schema, IReadOnlyList<IReadOnlyList<object?[]>> Batches)
{
    public static readonly IReadOnlyList<Case> All = [AllTypes(), DictionaryStartsEmpty(), NoBatches(), OneEmptyBatch(), Large()];

    public static Case Get(string name) => All.Single(c => c.Name == name);

    public int RowCount => Batches.Sum(b => b.Count);

    /// <summary>Every supported type, nulls in every nullable column, non-nullable columns, a 0-row
    /// batch between two others, and a dictionary that grows in the third batch.</summary>
    private static Case AllTypes()
    {
        var schema = new ArrowSchema.Builder()
            .Field("i8", ArrowType.Int8)
            .Field("i16", ArrowType.Int16)
            .Field("i32", ArrowType.Int32, nullable: false)
            .Field("i64", ArrowType.Int64)
            .Field("u8", ArrowType.UInt8)
            .Field("u16", ArrowType.UInt16)
            .Field("u32", ArrowType.UInt32)
            .Field("u64", ArrowType.UInt64)
            .Field("f64", ArrowType.Double)
            .Field("flag", ArrowType.Boolean)
            .Field("time", ArrowType.TimestampMicrosecondUtc, nullable: false)
            .Field("text", ArrowType.String)
            .Field("blob", ArrowType.Binary)
            .Field("addr", ArrowType.FixedSizeBinary(16))
            .Field("collector", ArrowType.DictionaryString)
            .Field("as_path", ArrowType.List(ArrowType.UInt32, valuesNullable: false))
            .Field("communities", ArrowType.List(ArrowType.String))
            .Metadata("bgpstream.schema", "test")
            .Build();
        object?[] Row(sbyte? i8, short? i16, int i32, long? i64, byte? u8, ushort? u16, uint? u32, ulong? u64, double? f64,
            bool? flag, long time, string? text, byte[]? blob, string? addr, string? collector, uint[]? path, string?[]? communities) =>
            [i8, i16, i32, i64, u8, u16, u32, u64, f64, flag, time, text, blob, addr is null ? null : IPAddress.Parse(addr), collector, path, communities];

        IReadOnlyList<object?[]> first =
        [
            Row(sbyte.MinValue, short.MinValue, int.MinValue, long.MinValue, 0, 0, 0, 0, -1.5, true, 0, "", [], "192.0.2.1",
                "rrc00", [], []),
            Row(sbyte.MaxValue, short.MaxValue, int.MaxValue, long.MaxValue, byte.MaxValue, ushort.MaxValue, uint.MaxValue, ulong.MaxValue,
                double.MaxValue, false, 1_767_225_600_123_456, "grüße, 世界 🚀", [0x00, 0xff, 0x10], "2001:db8::1",
                "rrc01", [65000, 4_200_000_000, 13335], ["65000:1", "65000:666", "ünïcode:1"]),
            Row(null, null, 7, null, null, null, null, null, null, null, -1, null, null, null, null, null, null),
        ];
        IReadOnlyList<object?[]> second = [];
        IReadOnlyList<object?[]> third =
        [
            Row(1, 2, 3, 4, 5, 6, 7, 8, 0.1, true, 1_000_000, "a", [1], "::", "route-views2", [1, 2, 3], [null, "x"]),
            Row(-1, -2, -3, -4, 250, 65000, 4_000_000_000, 18_000_000_000_000_000_000, double.Epsilon, null, 2, "b", null, null,
                "rrc00", null, null),
            Row(null, 0, 0, 0, 0, 0, 0, 0, double.NegativeInfinity, false, 3, "line\nbreak \"quoted\" \\ \0 nul", [], "::ffff:10.0.0.1",
                "route-views.sydney", [], []),
            Row(0, 0, 0, 0, 0, 0, 0, 0, 1e300, true, 4, "rrc00", [0xde, 0xad], "fe80::1", "rrc01", [7], ["rrc00"]),
        ];
        return new Case("all_types", schema, [first, second, third]);
    }

    /// <summary>The first batch's dictionary is empty (all nulls); the entries come in a later delta.</summary>
    private static Case DictionaryStartsEmpty()
    {
        var schema = new ArrowSchema.Builder()
            .Field("n", ArrowType.Int32)
            .Field("peer", ArrowType.DictionaryString)
            .Build();
        return new Case("dictionary_starts_empty", schema,
        [
            [[1, null], [2, null]],
            [[3, "AS65001"], [4, null], [5, "AS65002"]],
            [[6, "AS65002"], [7, "AS65003"]],
        ]);
    }

    private static Case NoBatches() =>
        new("no_batches", new ArrowSchema([new ArrowField("n", ArrowType.Int64), new ArrowField("s", ArrowType.DictionaryString)]), []);

    private static Case OneEmptyBatch() =>
        new("one_empty_batch", new ArrowSchema([new ArrowField("n", ArrowType.Int64), new ArrowField("s", ArrowType.DictionaryString),
            new ArrowField("l", ArrowType.List(ArrowType.String))]), [[]]);

    /// <summary>~100k BGP-element-like rows in 32k-row batches; new dictionary strings keep appearing.</summary>
    private static Case Large()
    {
        var schema = new ArrowSchema.Builder()
            .Field("time", ArrowType.TimestampMicrosecondUtc, nullable: false)
            .Field("type", ArrowType.DictionaryString, nullable: false)
            .Field("peer_address", ArrowType.FixedSizeBinary(16), nullable: false)
            .Field("peer_asn", ArrowType.UInt32, nullable: false)
            .Field("prefix", ArrowType.String, nullable: false)
            .Field("as_path", ArrowType.List(ArrowType.UInt32, valuesNullable: false))
            .Field("communities", ArrowType.List(ArrowType.String, valuesNullable: false))
            .Field("med", ArrowType.UInt32)
            .Build();
        const int rows = 100_003, perBatch = 32_768;
        var random = new Random(20260301);
        var batches = new List<IReadOnlyList<object?[]>>();
        var batch = new List<object?[]>();
        for (int i = 0; i < rows; i++)
        {
            bool withdrawal = i % 7 == 0;
            var path = withdrawal ? null : Enumerable.Range(0, random.Next(0, 8)).Select(_ => (uint)random.Next(1, 400_000)).ToArray();
            var communities = withdrawal ? null : Enumerable.Range(0, random.Next(0, 4)).Select(_ => $"{random.Next(65536)}:{random.Next(65536)}").ToArray();
            batch.Add([
                1_767_225_600_000_000L + i * 1_000L,
                withdrawal ? "W" : i > 70_000 && i % 11 == 0 ? $"A{i % 13}" : "A", // new entries only in the third batch onwards
                new IPAddress(new byte[] { 10, (byte)(i >> 16), (byte)(i >> 8), (byte)i }),
                (uint)(64512 + i % 1000),
                i % 3 == 0 ? $"2001:db8:{i:x}::/48" : $"10.{(i >> 8) & 255}.{i & 255}.0/24",
                path,
                communities,
                i % 5 == 0 ? null : (uint)random.Next(),
            ]);
            if (batch.Count == perBatch) { batches.Add(batch); batch = []; }
        }
        batches.Add(batch);
        return new Case("large", schema, batches);
    }
}
