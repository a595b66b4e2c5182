using BgpStream.TestSupport;

namespace BgpStream.Dump.Tests;

/// <summary>
/// Every MRT file of the corpus through <c>bgpstream dump -m</c> and Debian's <c>bgpdump -m</c>:
/// byte-identical output, except the files in <see cref="KnownDifferences"/>, where bgpdump loses
/// or garbles data (docs/bgpdump-format.md says what and why) and our output is checked instead.
/// </summary>
public class BgpdumpCorpusTests
{
    public static TheoryData<string> IdenticalFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Corpus.MrtFiles())
            if (!KnownDifferences.Files.Contains(f)) data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(IdenticalFiles))]
    public void Output_is_byte_identical_to_bgpdump(string file)
    {
        var path = Corpus.PathOf(file);
        var reference = Bgpdump.Reference(path);
        var (ours, stderr, _) = Bgpdump.Ours(path);
        AssertSameLines(reference, ours, stderr);
    }

    [Fact]
    public void Every_known_difference_is_a_corpus_file()
    {
        var files = Corpus.MrtFiles();
        Assert.All(KnownDifferences.Files, f => Assert.Contains(f, files));
        // The corpus must contain the files the comparison is about, or the test proves nothing.
        Assert.True(files.Count >= 39, $"expected the 39 MRT files of the corpus, found {files.Count}");
    }

    internal static void AssertSameLines(string[] reference, string[] ours, string stderr)
    {
        int n = Math.Min(reference.Length, ours.Length);
        for (int i = 0; i < n; i++)
            if (reference[i] != ours[i])
                Assert.Fail($"line {i + 1} differs\nbgpdump:   {reference[i]}\nbgpstream: {ours[i]}\nstderr: {stderr}");
        Assert.True(reference.Length == ours.Length,
            $"bgpdump printed {reference.Length} lines, bgpstream {ours.Length}\nstderr: {stderr}");
    }
}
