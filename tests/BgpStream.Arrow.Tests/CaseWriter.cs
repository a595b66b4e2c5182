using System.Globalization;
using System.Net;

namespace BgpStream.Arrow.Tests;

/// <summary>Writes a <see cref="Case"/> through the public API, and says what a reader must print for it.</summary>
public static class CaseWriter
{
    public static void Write(Case c, string path, ArrowIpcFormat format)
    {
        using var file = AtomicArrowFile.Create(path, c.Schema, format);
        using var builder = new RecordBatchBuilder(c.Schema);
        foreach (var rows in c.Batches)
        {
            foreach (var row in rows)
            {
                for (int i = 0; i < row.Length; i++) Append(builder[i], row[i]);
                builder.EndRow();
            }
            using var batch = builder.Build();
            file.WriteRecordBatch(batch);
        }
        file.WriteEnd();
    }

    public static void Append(ArrowColumnBuilder column, object? value)
    {
        if (value is null)
        {
            column.AppendNull();
            return;
        }
        switch (column)
        {
            case PrimitiveColumnBuilder<sbyte> b: b.Append((sbyte)value); break;
            case PrimitiveColumnBuilder<short> b: b.Append((short)value); break;
            case PrimitiveColumnBuilder<int> b: b.Append((int)value); break;
            case PrimitiveColumnBuilder<long> b: b.Append((long)value); break;
            case PrimitiveColumnBuilder<byte> b: b.Append((byte)value); break;
            case PrimitiveColumnBuilder<ushort> b: b.Append((ushort)value); break;
            case PrimitiveColumnBuilder<uint> b: b.Append((uint)value); break;
            case PrimitiveColumnBuilder<ulong> b: b.Append((ulong)value); break;
            case PrimitiveColumnBuilder<double> b: b.Append((double)value); break;
            case BooleanColumnBuilder b: b.Append((bool)value); break;
            case StringColumnBuilder b: b.Append((string)value); break;
            case BinaryColumnBuilder b: b.Append((byte[])value); break;
            case FixedSizeBinaryColumnBuilder b: b.Append((IPAddress)value); break;
            case DictionaryStringColumnBuilder b: b.Append((string)value); break;
            case ListColumnBuilder b when value is uint[] items: b.Append<uint>(items); break;
            case ListColumnBuilder b when value is string?[] items:
                b.Append();
                foreach (var item in items) Append(b.Values, item);
                break;
            default: throw new ArgumentException($"no rule for {value.GetType().Name} into {column.GetType().Name}");
        }
    }

    /// <summary>The canonical cell (readers/canon.cjs): null, string, bool or a list of cells.</summary>
    public static object? Expected(object? value) => value switch
    {
        null => null,
        bool b => b,
        string s => s,
        byte[] bytes => Convert.ToHexStringLower(bytes),
        IPAddress address => Convert.ToHexStringLower(Mapped(address)),
        double d => d, // compared as a number: JavaScript and .NET spell doubles differently
        uint[] items => items.Select(i => (object?)i.ToString(CultureInfo.InvariantCulture)).ToList(),
        string?[] items => items.Select(i => (object?)i).ToList(),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"no rule for {value.GetType().Name}"),
    };

    private static byte[] Mapped(IPAddress address) =>
        (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address.MapToIPv6() : address).GetAddressBytes();

    /// <summary>The DuckDB type a column becomes (DESCRIBE's column_type).</summary>
    public static string DuckDbType(ArrowType type) => type.Id switch
    {
        ArrowTypeId.Int8 => "TINYINT",
        ArrowTypeId.Int16 => "SMALLINT",
        ArrowTypeId.Int32 => "INTEGER",
        ArrowTypeId.Int64 => "BIGINT",
        ArrowTypeId.UInt8 => "UTINYINT",
        ArrowTypeId.UInt16 => "USMALLINT",
        ArrowTypeId.UInt32 => "UINTEGER",
        ArrowTypeId.UInt64 => "UBIGINT",
        ArrowTypeId.Double => "DOUBLE",
        ArrowTypeId.Boolean => "BOOLEAN",
        ArrowTypeId.Timestamp => "TIMESTAMP WITH TIME ZONE",
        ArrowTypeId.String or ArrowTypeId.Dictionary => "VARCHAR",
        ArrowTypeId.Binary or ArrowTypeId.FixedSizeBinary => "BLOB",
        ArrowTypeId.List => DuckDbType(type.ValueField!.Type) + "[]",
        _ => throw new ArgumentException(type.ToString()),
    };
}
