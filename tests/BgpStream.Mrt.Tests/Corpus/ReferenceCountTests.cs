using System.Text.Json;
using BgpStream.TestSupport;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Our readers against reference-counts.json's "independent_walk" (an RFC 6396/8050 walker
/// written separately from this code): records by type/subtype, BGP messages by type, announced
/// and withdrawn prefixes per family, RIB entries, state changes and malformed NLRI, for every MRT
/// file of the corpus. Where the two legitimately differ the difference is spelled out below.
/// </summary>
public class ReferenceCountTests
{
    private static readonly Lazy<JsonDocument> Reference = new(() => JsonDocument.Parse(File.ReadAllText(Corpus.PathOf("reference-counts.json"))));

    /// <summary>Files whose framing the walk could not follow; our reader recovers them (see CorpusQuirkTests).</summary>
    private static readonly HashSet<string> RecoveredByOurReader =
    [
        "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz",
        "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz",
    ];

    /// <summary>Counts that differ from the walk on purpose: "section/key" → our value, and why.</summary>
    private static readonly Dictionary<string, Dictionary<string, long>> Overrides = new()
    {
        // The walk counts 21 MESSAGE records too short for a BGP header as problems; they are Zebra's
        // short form (no interface, AFI or addresses) holding OPENs, which we read as bgpdump does.
        ["bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc01/2000.11/updates.20001104.0124.gz"] = new() { ["bgp_msgs/OPEN"] = 9 + 21 },
    };

    /// <summary>Decode errors we expect (limitations, named): file → count.</summary>
    private static readonly Dictionary<string, int> ExpectedDecodeErrors = new()
    {
        // 31 deprecated BGP4MP_ENTRY records: framed and counted, not decoded.
        ["t2mune__mrtparse/samples/openbgpd_rib_table-mp"] = 31,
    };

    public static TheoryData<string> Files =>
        new(Reference.Value.RootElement.EnumerateArray().Select(e => e.GetProperty("path").GetString()!).Where(p => !RecoveredByOurReader.Contains(p)));

    [Fact]
    public void Every_mrt_file_of_the_corpus_has_reference_counts()
    {
        var referenced = Reference.Value.RootElement.EnumerateArray().Select(e => e.GetProperty("path").GetString()!).Order(StringComparer.Ordinal);
        Assert.Equal(BgpStream.TestSupport.Corpus.MrtFiles(), referenced);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Counts_agree_with_the_independent_walk(string path)
    {
        var entry = Reference.Value.RootElement.EnumerateArray().Single(e => e.GetProperty("path").GetString() == path);
        var expected = entry.GetProperty("independent_walk");
        var walk = Bounded.Run(TimeSpan.FromSeconds(60), () => MrtCorpusWalk.Run(path), path);
        var overrides = Overrides.GetValueOrDefault(path) ?? new();

        Assert.Equal(expected.GetProperty("mrt_records_total").GetInt64(), walk.RecordCount);
        Compare("records", expected.GetProperty("records"), walk.Records, overrides);
        Compare("bgp_msgs", expected.GetProperty("bgp_msgs"), walk.BgpMessages, overrides);
        Compare("announced", expected.GetProperty("announced"), walk.Announced, overrides);
        Compare("withdrawn", expected.GetProperty("withdrawn"), walk.Withdrawn, overrides);
        Compare("rib_entries", expected.GetProperty("rib_entries"), walk.RibEntries, overrides);
        Assert.Equal(expected.GetProperty("state_changes").GetInt64(), walk.StateChanges);

        // Malformed NLRI the walk found are the NLRI fields we find malformed (read without ADD-PATH).
        long malformedNlri = expected.GetProperty("problems").EnumerateObject()
            .Where(p => p.Name.StartsWith("malformed", StringComparison.Ordinal) && p.Name.Contains("NLRI")).Sum(p => p.Value.GetInt64());
        Assert.Equal(malformedNlri, walk.NlriErrors);
        Assert.Empty(walk.Diagnostics);
        Assert.Equal(ExpectedDecodeErrors.GetValueOrDefault(path), walk.DecodeErrors.Count);
    }

    private static void Compare(string section, JsonElement expected, Dictionary<string, long> ours, Dictionary<string, long> overrides)
    {
        var keys = expected.EnumerateObject().Select(p => p.Name).Concat(ours.Keys).Distinct().Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            long theirs = expected.TryGetProperty(key, out var v) ? v.GetInt64() : 0;
            if (overrides.TryGetValue($"{section}/{key}", out var over)) theirs = over;
            Assert.True(theirs == ours.GetValueOrDefault(key), $"{section}[{key}]: walk {theirs}, ours {ours.GetValueOrDefault(key)}");
        }
    }
}
