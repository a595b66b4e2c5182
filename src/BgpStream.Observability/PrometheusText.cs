using System.Globalization;
using System.Text;

namespace BgpStream.Observability;

/// <summary>
/// A writer of the Prometheus text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): per family one <c># HELP</c> and
/// one <c># TYPE</c> line, then its samples, <c>name{label="value",...} value</c>, one per line.
/// </summary>
public sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _families = [];

    /// <summary>Starts a metric family. A family appears once: the format forbids a second HELP/TYPE for a name.</summary>
    public PrometheusText Family(string name, string type, string help)
    {
        if (!IsValidName(name)) throw new ArgumentException($"'{name}' is not a metric name", nameof(name));
        if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped")) throw new ArgumentException($"unknown metric type {type}", nameof(type));
        if (!_families.Add(name)) throw new InvalidOperationException($"metric family {name} written twice");
        _text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    public PrometheusText Sample(string name, double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (!IsValidLabelName(labels[i].Name)) throw new ArgumentException($"'{labels[i].Name}' is not a label name", nameof(labels));
                if (i > 0) _text.Append(',');
                _text.Append(labels[i].Name).Append("=\"").Append(EscapeLabelValue(labels[i].Value)).Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(FormatValue(value)).Append('\n');
        return this;
    }

    /// <summary>A histogram's samples: cumulative <c>_bucket{le=...}</c> ending with <c>+Inf</c>, then <c>_sum</c> and <c>_count</c>.</summary>
    public PrometheusText Histogram(string name, HistogramSnapshot snapshot, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        var withLe = new (string, string)[labels.Length + 1];
        labels.CopyTo(withLe);
        long cumulative = 0;
        for (int i = 0; i < snapshot.Bounds.Count; i++)
        {
            cumulative += snapshot.Counts[i];
            withLe[^1] = ("le", FormatValue(snapshot.Bounds[i]));
            Sample(name + "_bucket", cumulative, withLe);
        }
        cumulative += snapshot.Counts[^1];
        withLe[^1] = ("le", "+Inf");
        Sample(name + "_bucket", cumulative, withLe);
        Sample(name + "_sum", snapshot.Sum, labels);
        Sample(name + "_count", cumulative, labels);
        return this;
    }

    public override string ToString() => _text.ToString();

    /// <summary>HELP text: backslash and line feed are escaped.</summary>
    public static string EscapeHelp(string text) => text.Replace("\\", @"\\").Replace("\n", @"\n");

    /// <summary>Label values: backslash, double quote and line feed are escaped.</summary>
    public static string EscapeLabelValue(string text) => text.Replace("\\", @"\\").Replace("\"", "\\\"").Replace("\n", @"\n");

    /// <summary>Go's ParseFloat spellings: <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>, otherwise the shortest round-trip form.</summary>
    public static string FormatValue(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary><c>[a-zA-Z_:][a-zA-Z0-9_:]*</c></summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    /// <summary><c>[a-zA-Z_][a-zA-Z0-9_]*</c>, and names beginning <c>__</c> are reserved.</summary>
    public static bool IsValidLabelName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && !name.StartsWith("__") && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

/// <summary>What a <see cref="Histogram"/> holds at one moment: per bucket (not cumulative) counts, the last one above every bound.</summary>
public sealed record HistogramSnapshot(IReadOnlyList<double> Bounds, IReadOnlyList<long> Counts, double Sum);

/// <summary>
/// A histogram any thread may observe into: one Interlocked increment per observation and a
/// compare-exchange loop for the sum. Snapshots may be a moment inconsistent (a count without its sum).
/// </summary>
public sealed class Histogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private double _sum;

    public Histogram(IReadOnlyList<double> bounds)
    {
        for (int i = 1; i < bounds.Count; i++)
            if (!(bounds[i] > bounds[i - 1])) throw new ArgumentException("histogram bounds must increase", nameof(bounds));
        _bounds = [.. bounds];
        _counts = new long[_bounds.Length + 1];
    }

    public void Observe(double value)
    {
        // "le": a value equal to a bound falls in that bound's bucket.
        int i = Array.BinarySearch(_bounds, value);
        if (i < 0) i = ~i;
        Interlocked.Increment(ref _counts[i]);
        double seen, next;
        do
        {
            seen = Volatile.Read(ref _sum);
            next = seen + value;
        }
        while (Interlocked.CompareExchange(ref _sum, next, seen) != seen);
    }

    public HistogramSnapshot Snapshot()
    {
        var counts = new long[_counts.Length];
        for (int i = 0; i < counts.Length; i++) counts[i] = Interlocked.Read(ref _counts[i]);
        return new(_bounds, counts, Volatile.Read(ref _sum));
    }
}
