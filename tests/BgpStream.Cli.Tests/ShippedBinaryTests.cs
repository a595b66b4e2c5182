using BgpStream.Dump;
using BgpStream.TestSupport;

namespace BgpStream.Cli.Tests;

/// <summary>
/// The <c>bgpstream</c> that scripts/build.sh ships (scripts/test.sh builds it first): the Native AOT
/// front in artifacts/bgpstream, which runs dump itself, and the full CLI in artifacts/bgpstream/lib,
/// which the front execs for everything else.
/// </summary>
public class ShippedBinaryTests
{
    private static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BgpStream.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("BgpStream.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static string Front
    {
        get
        {
            string path = Path.Combine(Root, "artifacts", "bgpstream", "bgpstream");
            Assert.True(File.Exists(path), $"{path} is missing: run scripts/build.sh (scripts/test.sh does before the tests)");
            return path;
        }
    }

    [Fact]
    public void The_front_is_native_and_the_full_cli_is_beside_it_in_lib()
    {
        var front = File.ReadAllBytes(Front);
        Assert.Equal("\u007fELF"u8.ToArray(), front[..4]);
        var dir = Path.GetDirectoryName(Front)!;
        // No runtime beside the front: it is one native image. The full CLI carries its own.
        Assert.False(File.Exists(Path.Combine(dir, "libcoreclr.so")), "the front should not need the .NET runtime");
        Assert.False(File.Exists(Path.Combine(dir, "bgpstream.dll")));
        Assert.True(File.Exists(Path.Combine(dir, "lib", "bgpstream")));
        Assert.True(File.Exists(Path.Combine(dir, "lib", "libcoreclr.so")));
    }

    public static TheoryData<string> CorpusFiles => [.. Corpus.MrtFiles()];

    /// <summary>
    /// Every MRT file of the corpus, damaged ones included: the Native AOT build of the dump (trimmed,
    /// compiled ahead of time) prints what the in-process <see cref="DumpRunner"/> prints, on stdout and
    /// stderr, with the same exit status. DumpRunner itself is held to bgpdump by BgpStream.Dump.Tests.
    /// </summary>
    [Theory(Timeout = 300_000)]
    [MemberData(nameof(CorpusFiles))]
    public async Task Dump_prints_what_the_dump_runner_prints(string file)
    {
        string path = Corpus.PathOf(file);
        using var expected = new MemoryStream();
        var expectedErrors = new StringWriter();
        int expectedExit = DumpRunner.Run([path], expected, expectedErrors);
        var (exit, stdout, stderr) = await ProgramRun.RunAsync(Front, "dump", "-m", path);
        Assert.Equal(expectedExit, exit);
        Assert.Equal(expectedErrors.ToString(), stderr);
        Assert.True(expected.ToArray().AsSpan().SequenceEqual(stdout), $"{file}: the shipped dump differs from DumpRunner's");
    }

    [Fact(Timeout = 120_000)]
    public async Task Every_other_command_reaches_the_full_cli_with_its_arguments()
    {
        var (exit, stdout, stderr) = await ProgramRun.RunAsync(Front, "--version");
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^\d+\.\d+", System.Text.Encoding.UTF8.GetString(stdout));

        (exit, stdout, stderr) = await ProgramRun.RunAsync(Front, "dump", "--help");
        Assert.True(exit == 0, stderr);
        Assert.Contains("bgpdump 1.6.2", System.Text.Encoding.UTF8.GetString(stdout));

        (exit, stdout, stderr) = await ProgramRun.RunAsync(Front, "replay", "--help");
        Assert.True(exit == 0, stderr);
        Assert.Contains("--format", System.Text.Encoding.UTF8.GetString(stdout));

        // A bad option is the full CLI's error, with its exit status.
        (exit, _, stderr) = await ProgramRun.RunAsync(Front, "collect", "--no-such-option");
        Assert.NotEqual(0, exit);
        Assert.NotEqual(127, exit);
        Assert.Contains("--no-such-option", stderr);
    }

    [Fact(Timeout = 120_000)]
    public async Task Without_the_full_cli_the_front_says_where_it_looked()
    {
        using var dir = new TempCopy(Front);
        var (exit, _, stderr) = await ProgramRun.RunAsync(dir.Front, "replay", "x.gz");
        Assert.Equal(127, exit);
        Assert.Contains(Path.Combine(dir.Path, "lib", "bgpstream"), stderr);
        Assert.Contains("No such file", stderr);
    }

    /// <summary>The front alone, copied to a temp directory.</summary>
    private sealed class TempCopy : IDisposable
    {
        public TempCopy(string front)
        {
            Path = Directory.CreateTempSubdirectory("bgpstream-front-").FullName;
            Front = System.IO.Path.Combine(Path, "bgpstream");
            File.Copy(front, Front);
        }

        public string Path { get; }
        public string Front { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
