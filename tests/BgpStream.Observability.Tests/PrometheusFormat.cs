using System.Text.RegularExpressions;

namespace BgpStream.Observability.Tests;

/// <summary>
/// A strict reader of the text exposition format 0.0.4, written from the specification
/// (https://prometheus.io/docs/instrumenting/exposition_formats/), independent of the writer: no
/// Prometheus parser is installable offline here (prometheus_client is not on the mirror).
/// </summary>
internal static partial class PrometheusFormat
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    [GeneratedRegex("""^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ((?:[^\\\n]|\\\\|\\n)*)$""")]
    private static partial Regex Help();

    [GeneratedRegex("""^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$""")]
    private static partial Regex Type();

    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*")(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*")*)\})? (NaN|[+-]Inf|[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(""""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\\\|\\"|\\n)*)"""")]
    private static partial Regex Label();

    /// <summary>Parses and checks: every line well formed, HELP then TYPE once per family before its samples, samples of a family together, no duplicate series, histogram buckets cumulative and ending with +Inf equal to _count.</summary>
    public static (IReadOnlyDictionary<string, string> Types, IReadOnlyList<Sample> Samples) Parse(string text)
    {
        Assert.EndsWith("\n", text);
        var types = new Dictionary<string, string>();
        var helps = new HashSet<string>();
        var samples = new List<Sample>();
        var series = new HashSet<string>();
        var closed = new HashSet<string>();
        string? current = null;
        foreach (var line in text[..^1].Split('\n'))
        {
            if (Help().Match(line) is { Success: true } h)
            {
                Assert.True(helps.Add(h.Groups[1].Value), $"second HELP for {h.Groups[1].Value}");
                Assert.False(types.ContainsKey(h.Groups[1].Value), $"HELP after TYPE for {h.Groups[1].Value}");
                if (current is not null) closed.Add(current);
                current = h.Groups[1].Value;
                continue;
            }
            if (Type().Match(line) is { Success: true } t)
            {
                Assert.True(types.TryAdd(t.Groups[1].Value, t.Groups[2].Value), $"second TYPE for {t.Groups[1].Value}");
                Assert.Equal(current, t.Groups[1].Value);
                continue;
            }
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a valid exposition line: '{line}'");
            string name = m.Groups[1].Value;
            string family = FamilyOf(name, types);
            Assert.True(types.ContainsKey(family), $"sample {name} without a TYPE");
            Assert.Equal(current, family);
            Assert.DoesNotContain(family, closed);
            var labels = new Dictionary<string, string>();
            foreach (Match l in Label().Matches(m.Groups[2].Value))
                Assert.True(labels.TryAdd(l.Groups[1].Value, Unescape(l.Groups[2].Value)), $"label {l.Groups[1].Value} twice in '{line}'");
            Assert.True(series.Add(name + "{" + string.Join(",", labels.OrderBy(x => x.Key).Select(x => x.Key + "=" + x.Value)) + "}"), $"duplicate series '{line}'");
            double value = m.Groups[3].Value switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture),
            };
            if (types[family] == "counter") Assert.True(value >= 0, $"negative counter '{line}'");
            samples.Add(new Sample(name, labels, value));
        }
        foreach (var (family, type) in types.Where(t => t.Value == "histogram")) CheckHistogram(family, samples);
        return (types, samples);
    }

    private static string FamilyOf(string name, Dictionary<string, string> types)
    {
        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
            if (name.EndsWith(suffix) && types.TryGetValue(name[..^suffix.Length], out var t) && t == "histogram") return name[..^suffix.Length];
        return name;
    }

    private static void CheckHistogram(string family, List<Sample> samples)
    {
        var buckets = samples.Where(s => s.Name == family + "_bucket").ToList();
        Assert.NotEmpty(buckets);
        Assert.Equal("+Inf", buckets[^1].Labels["le"]);
        for (int i = 1; i < buckets.Count; i++)
        {
            Assert.True(buckets[i].Value >= buckets[i - 1].Value, $"{family}: buckets not cumulative");
            Assert.True(ParseLe(buckets[i].Labels["le"]) > ParseLe(buckets[i - 1].Labels["le"]), $"{family}: le not increasing");
        }
        Assert.Equal(buckets[^1].Value, samples.Single(s => s.Name == family + "_count").Value);
        Assert.Single(samples, s => s.Name == family + "_sum");
    }

    private static double ParseLe(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, System.Globalization.CultureInfo.InvariantCulture);

    private static string Unescape(string value) => Regex.Replace(value, @"\\(.)", m => m.Groups[1].Value == "n" ? "\n" : m.Groups[1].Value);

    public static double Value(IReadOnlyList<Sample> samples, string name, params (string Name, string Value)[] labels) =>
        samples.Single(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value)).Value;
}
