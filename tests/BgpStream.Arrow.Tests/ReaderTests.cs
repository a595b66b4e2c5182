using System.Globalization;
using System.Text;
using System.Text.Json;

namespace BgpStream.Arrow.Tests;

/// <summary>Writes every <see cref="Case"/> as a stream and as a file, and has each reader read them all once.</summary>
public sealed class ReaderFixture : IDisposable
{
    public ReaderFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "bgpstream-arrow-" + Guid.NewGuid().ToString("n"));
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var c in Case.All)
            foreach (var format in Formats)
                CaseWriter.Write(c, PathOf(c.Name, format), format);

        Missing = NodeReaders.MissingPrerequisite();
        if (Missing is not null) return;
        var files = Case.All.SelectMany(c => Formats.Select(f => PathOf(c.Name, f))).ToList();
        // The readers are independent processes; running them side by side keeps the suite short.
        var runs = NodeReaders.Names.ToDictionary(r => r, r => Task.Run(() => NodeReaders.Read(r, files)));
        foreach (var (reader, run) in runs)
        {
            try { Results[reader] = run.Result; }
            catch (AggregateException e) { Failures[reader] = e.InnerException!.Message; }
        }
    }

    public static readonly ArrowIpcFormat[] Formats = [ArrowIpcFormat.Stream, ArrowIpcFormat.File];

    public string Directory { get; }
    public string? Missing { get; }
    public Dictionary<string, Dictionary<string, JsonElement>> Results { get; } = [];
    public Dictionary<string, string> Failures { get; } = [];

    public string PathOf(string caseName, ArrowIpcFormat format) =>
        Path.Combine(Directory, caseName + (format == ArrowIpcFormat.File ? ".arrow" : ".arrows"));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class ReaderTests(ReaderFixture fixture) : IClassFixture<ReaderFixture>
{
    public static TheoryData<string, string, string> Combinations()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var reader in NodeReaders.Names)
            foreach (var c in Case.All)
                foreach (var format in ReaderFixture.Formats)
                    data.Add(reader, c.Name, format.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Reader_reads_back_every_value(string reader, string caseName, string formatName)
    {
        Assert.True(fixture.Missing is null, fixture.Missing);
        Assert.False(fixture.Failures.TryGetValue(reader, out var failure), failure);
        var c = Case.Get(caseName);
        var format = Enum.Parse<ArrowIpcFormat>(formatName);
        var actual = fixture.Results[reader][fixture.PathOf(caseName, format)];
        if (actual.TryGetProperty("error", out var error))
            Assert.Fail($"{reader} rejected {caseName} ({format}): {error.GetString()}");

        // Schema: arrow-js and arrow-rs keep Arrow types; DuckDB has its own (and no nullability).
        var fields = c.Schema.Fields;
        var schema = actual.GetProperty("schema").EnumerateArray().ToList();
        Assert.Equal(fields.Count, schema.Count);
        for (int i = 0; i < fields.Count; i++)
        {
            Assert.Equal(fields[i].Name, schema[i].GetProperty("name").GetString());
            if (reader == "duckdb")
            {
                Assert.Equal(CaseWriter.DuckDbType(fields[i].Type), schema[i].GetProperty("type").GetString());
            }
            else
            {
                Assert.Equal(fields[i].Type.ToString(), schema[i].GetProperty("type").GetString());
                Assert.Equal(fields[i].IsNullable, schema[i].GetProperty("nullable").GetBoolean());
            }
        }

        if (actual.GetProperty("batches").ValueKind == JsonValueKind.Array)
        {
            // Batch boundaries survive (0-row batches included), except where a reader merges: reported, not hidden.
            var batches = actual.GetProperty("batches").EnumerateArray().Select(b => b.GetInt32()).ToList();
            // A writer ended without any batch writes one of 0 rows (IpcWriter.WriteEndOfStream says why).
            Assert.Equal(c.Batches.Count == 0 ? [0] : c.Batches.Select(b => b.Count), batches);
        }

        var columns = actual.GetProperty("columns");
        for (int i = 0; i < fields.Count; i++)
        {
            var values = columns.GetProperty(fields[i].Name).EnumerateArray().ToList();
            Assert.Equal(c.RowCount, values.Count);
            int row = 0;
            foreach (var batch in c.Batches)
                foreach (var r in batch)
                {
                    string? mismatch = Compare(CaseWriter.Expected(r[i]), values[row]);
                    if (mismatch is not null)
                        Assert.Fail($"{reader}, {caseName} ({format}), column '{fields[i].Name}', row {row}: {mismatch}");
                    row++;
                }
        }
    }

    private static string? Compare(object? expected, JsonElement actual)
    {
        switch (expected)
        {
            case null:
                return actual.ValueKind == JsonValueKind.Null ? null : $"expected null, read {actual.GetRawText()}";
            case bool b:
                return actual.ValueKind is JsonValueKind.True or JsonValueKind.False && actual.GetBoolean() == b
                    ? null : $"expected {b}, read {actual.GetRawText()}";
            case double d:
                if (actual.ValueKind != JsonValueKind.String || !double.TryParse(actual.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var read))
                    return $"expected {d:R}, read {actual.GetRawText()}";
                return read.Equals(d) ? null : $"expected {d:R}, read {read:R}";
            case string s:
                return actual.ValueKind == JsonValueKind.String && actual.GetString() == s
                    ? null : $"expected {JsonSerializer.Serialize(s)}, read {actual.GetRawText()}";
            case List<object?> list:
                if (actual.ValueKind != JsonValueKind.Array) return $"expected a list, read {actual.GetRawText()}";
                var items = actual.EnumerateArray().ToList();
                if (items.Count != list.Count) return $"expected {list.Count} items, read {actual.GetRawText()}";
                for (int i = 0; i < items.Count; i++)
                    if (Compare(list[i], items[i]) is { } m) return $"item {i}: {m}";
                return null;
            default:
                throw new ArgumentException(expected.GetType().Name);
        }
    }

    [Fact]
    public void Reader_versions_are_the_pinned_ones()
    {
        Assert.True(fixture.Missing is null, fixture.Missing);
        var versions = new StringBuilder();
        foreach (var package in new[] { "apache-arrow", "parquet-wasm", "@duckdb/duckdb-wasm" })
            versions.Append(package).Append(' ').Append(NodeReaders.Version(package)).Append("; ");
        Assert.Equal("apache-arrow 21.2.0; parquet-wasm 0.8.0; @duckdb/duckdb-wasm 1.32.0; ", versions.ToString());
    }
}
