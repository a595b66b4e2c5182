namespace BgpStream.TestSupport;

/// <summary>
/// Finds the shared corpus of real BGP data (../shared/corpus beside the repository, or
/// $BGPSTREAM_CORPUS). It is never copied into the repository; a missing corpus fails loudly.
/// </summary>
public static class Corpus
{
    private static readonly Lazy<string> RootPath = new(Locate);

    /// <summary>The corpus directory. Throws with instructions when it cannot be found.</summary>
    public static string Root => RootPath.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Every MRT file of the corpus, as paths relative to <see cref="Root"/>, sorted.</summary>
    public static IReadOnlyList<string> MrtFiles()
    {
        var skip = new[] { ".md", ".json", ".pcap", ".pcapng", ".cap", ".out", ".bgp.gz" };
        return Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
            .Where(p => !p.StartsWith("Exa-Networks__exabgp/", StringComparison.Ordinal))
            .Where(p => !p.StartsWith("the-tcpdump-group__tcpdump/", StringComparison.Ordinal))
            .Where(p => !p.StartsWith("DevQps__bgp-rs/res/pcap/", StringComparison.Ordinal))
            .Where(p => !skip.Any(s => p.EndsWith(s, StringComparison.Ordinal)))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();
    }

    private static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("BGPSTREAM_CORPUS");
        if (!string.IsNullOrEmpty(env))
        {
            if (File.Exists(Path.Combine(env, "SOURCES.md"))) return Path.GetFullPath(env);
            throw new InvalidOperationException($"BGPSTREAM_CORPUS={env} does not hold the corpus (no SOURCES.md there).");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "corpus");
            if (File.Exists(Path.Combine(candidate, "SOURCES.md"))) return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared", "corpus");
            if (File.Exists(Path.Combine(candidate, "SOURCES.md"))) return Path.GetFullPath(candidate);
        }
        throw new InvalidOperationException(
            "THE BGP TEST CORPUS IS MISSING: expected ../shared/corpus beside the repository or $BGPSTREAM_CORPUS. "
            + "Corpus-based tests cannot run without it.");
    }
}
