using BgpStream.TestSupport;

namespace BgpStream.Dump.Tests;

/// <summary>
/// The corpus files where bgpdump 1.6.2 is wrong, each with a test of what we print instead.
/// docs/bgpdump-format.md lists the same files with the reasons.
/// </summary>
public class KnownDifferences
{
    private const string Ris1999Sep = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/1999.09/updates.19990903.1041.gz";
    private const string Ris1999Dec = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/1999.12/updates.19991214.1621.gz";
    private const string Ris2000Jan = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/updates.20000102.2014.gz";
    private const string Ris2000Mar = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.03/updates.20000325.0345.gz";
    private const string RisBview2000 = "bgpkit__bgpkit-parser/tests/fixtures/ripe/rrc00/2000.01/bview.20000111.0032.gz";
    private const string BirdBgp = "t2mune__mrtparse/samples/bird_bgp";
    private const string Bird6Bgp = "t2mune__mrtparse/samples/bird6_bgp";
    private const string OpenbgpdRib = "t2mune__mrtparse/samples/openbgpd_rib_table";
    private const string OpenbgpdRibV2 = "t2mune__mrtparse/samples/openbgpd_rib_table-v2";

    public static readonly IReadOnlySet<string> Files = new HashSet<string>
    {
        Ris1999Sep, Ris1999Dec, Ris2000Jan, Ris2000Mar, RisBview2000, BirdBgp, Bird6Bgp, OpenbgpdRib, OpenbgpdRibV2,
    };

    /// <summary>
    /// Deprecated BGP type, withdrawals: bgpdump prints the peer's address with the withdrawn
    /// prefix's length. Every other line is identical; each differing line is a withdrawal whose
    /// bgpdump "prefix" is the peer address and ours is a real prefix of the same length.
    /// </summary>
    [Theory]
    [InlineData(Ris1999Sep, 25)]
    [InlineData(Ris1999Dec, 1366)]
    [InlineData(Ris2000Jan, 675)]
    public void Legacy_bgp_withdrawals_print_the_prefix_not_the_peer(string file, int maxDifferences)
    {
        var path = Corpus.PathOf(file);
        var reference = Bgpdump.Reference(path);
        var (ours, stderr, exit) = Bgpdump.Ours(path);
        Assert.Equal(0, exit);
        Assert.Equal(reference.Length, ours.Length);
        int differing = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            if (reference[i] == ours[i]) continue;
            differing++;
            var r = reference[i].Split('|');
            var o = ours[i].Split('|');
            Assert.True(r.Length == 6 && r[2] == "W", $"line {i + 1}: only withdrawals may differ: {reference[i]}");
            Assert.Equal(r[..5], o[..5]);
            Assert.StartsWith(r[3] + "/", r[5]); // bgpdump: peer address
            Assert.NotEqual(r[3], o[5].Split('/')[0]); // ours: the withdrawn prefix
            Assert.Equal(r[5].Split('/')[1], o[5].Split('/')[1]); // same length
        }
        Assert.InRange(differing, 1, maxDifferences);
        Assert.Empty(stderr);
    }

    /// <summary>
    /// 2000 RIS bview: TABLE_DUMP records under-declare their length by 4 bytes and pack many
    /// entries. bgpdump stops after one entry; we read the records to their real end.
    /// </summary>
    [Fact]
    public void Ris_2000_bview_is_read_past_its_under_declared_lengths()
    {
        var path = Corpus.PathOf(RisBview2000);
        var reference = Bgpdump.Reference(path);
        var (ours, stderr, exit) = Bgpdump.Ours(path);
        Assert.Single(reference);
        Assert.Equal(reference[0], ours[0]);
        Assert.Equal(1, exit);
        Assert.Contains("declares 7720 bytes but the next record starts 4 bytes later", stderr);
        // 19.5 MB of 2000-era RIB: ~450 k (prefix, peer) entries of the era's ~70 k-prefix table.
        Assert.InRange(ours.Length, 400_000, 500_000);
        Assert.All(ours, l => Assert.StartsWith("TABLE_DUMP|", l));
        var peers = ours.Select(l => l.Split('|')[3]).Distinct().Count();
        Assert.InRange(peers, 5, 40);
    }

    /// <summary>
    /// 2000-03 RIS updates: a record whose declared length is 27 bytes short. bgpdump stops after
    /// five records; we report the damaged record and go on to the end of the file.
    /// </summary>
    [Fact]
    public void Ris_2000_updates_continue_after_a_damaged_record()
    {
        var path = Corpus.PathOf(Ris2000Mar);
        var reference = Bgpdump.Reference(path);
        var (ours, stderr, exit) = Bgpdump.Ours(path);
        Assert.Equal(1, exit);
        Assert.Contains("offset 188", stderr);
        Assert.True(ours.Length > 2 * reference.Length, $"{ours.Length} lines vs bgpdump's {reference.Length}");
        Assert.Contains(ours, l => l.Split('|')[2] == "STATE");
        // Records after the damage are from the same 15-minute file.
        var times = ours.Select(l => long.Parse(l.Split('|')[1])).ToList();
        Assert.InRange(times.Max() - times.Min(), 0, 3600);
    }

    /// <summary>
    /// BIRD writes ADD-PATH NLRI into plain MESSAGE_AS4 records; bgpdump decodes them without
    /// Path Identifiers and prints garbage (0.0.0.0/0, 24.0.0.0/2). We learn ADD-PATH from the
    /// peer's OPEN: 14 prefixes in each file (SOURCES.md, finding 5).
    /// </summary>
    [Theory]
    [InlineData(BirdBgp, "1")]
    [InlineData(Bird6Bgp, "fd0")]
    public void Bird_add_path_without_the_addpath_subtype(string file, string prefixStart)
    {
        var path = Corpus.PathOf(file);
        var reference = Bgpdump.Reference(path);
        var (ours, stderr, exit) = Bgpdump.Ours(path);
        Assert.Equal(0, exit);
        Assert.Empty(stderr);
        var announced = ours.Where(l => l.Split('|')[2] == "A").ToList();
        Assert.Equal(14, announced.Count);
        Assert.All(announced, l =>
        {
            var f = l.Split('|');
            Assert.Equal("BGP4MP_AP", f[0]);
            Assert.StartsWith(prefixStart, f[5]);
            Assert.DoesNotContain("/0", f[5]);
            Assert.True(uint.Parse(f[6]) < 1000, $"path id {f[6]}");
        });
        Assert.Contains(reference, l => l.Contains("|0.0.0.0/0|") || l.Contains("::/0|"));
        Assert.Equal(reference.Where(l => l.Contains("|STATE|")), ours.Where(l => l.Contains("|STATE|")));
    }

    /// <summary>
    /// OpenBGPD's TABLE_DUMP (v1) carries an 8-byte AGGREGATOR (4-octet AS). bgpdump reads it as
    /// 2-octet AS + address and prints "0 253.232.192.168"; we print "65000 192.168.0.15".
    /// </summary>
    [Fact]
    public void Openbgpd_table_dump_four_octet_aggregator()
    {
        var path = Corpus.PathOf(OpenbgpdRib);
        var reference = Bgpdump.Reference(path);
        var (ours, _, exit) = Bgpdump.Ours(path);
        Assert.Equal(0, exit);
        Assert.Equal(reference.Length, ours.Length);
        var diffs = Enumerable.Range(0, ours.Length).Where(i => ours[i] != reference[i]).ToList();
        var i = Assert.Single(diffs);
        Assert.EndsWith("|NAG|0 253.232.192.168|", reference[i]);
        Assert.EndsWith("|NAG|65000 192.168.0.15|", ours[i]);
    }

    /// <summary>
    /// RIB_GENERIC VPNv4 entries: bgpdump drops them silently (31 lines for 33 entries); we print
    /// them with their Route Distinguisher.
    /// </summary>
    [Fact]
    public void Openbgpd_rib_generic_vpn_entries_are_printed()
    {
        var path = Corpus.PathOf(OpenbgpdRibV2);
        var reference = Bgpdump.Reference(path);
        var (ours, _, exit) = Bgpdump.Ours(path);
        Assert.Equal(0, exit);
        Assert.Equal(33, ours.Length);
        Assert.Equal(reference, ours.Take(31));
        Assert.All(ours.Skip(31), l => Assert.Matches(@"^TABLE_DUMP2\|\d+\|B\|192\.168\.1\.10\|65000\|65010:15:192\.168\.\d+\.0/\d+\|", l));
    }
}
