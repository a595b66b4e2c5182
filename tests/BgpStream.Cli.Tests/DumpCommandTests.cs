using System.CommandLine;
using BgpStream.Cli;
using BgpStream.Dump;
using BgpStream.TestSupport;

namespace BgpStream.Cli.Tests;

/// <summary>
/// <c>dump</c>'s plain forms skip System.CommandLine (start-up is most of a short dump's wall time):
/// they must run exactly what the command tree would, and every other form must still reach it.
/// </summary>
public class DumpCommandTests
{
    private const string File2016 = "RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz";

    public static TheoryData<string[]> PlainForms => new()
    {
        new[] { "dump", "-m", "a.gz" },
        new[] { "dump", "a.gz", "b.bz2" },
        new[] { "dump", "a.gz", "-m", "b" },
        new[] { "dump", "-m" },
        new[] { "dump" },
        new[] { "dump", "-" },
        new[] { "dump", "-m", "-", "c" },
    };

    [Theory]
    [MemberData(nameof(PlainForms))]
    public void A_plain_form_names_the_files_the_command_tree_would_run(string[] args)
    {
        var plain = DumpArguments.PlainFiles(args);
        Assert.NotNull(plain);
        var command = DumpCommand.Create();
        var root = new RootCommand { command };
        var parsed = root.Parse(args);
        Assert.Empty(parsed.Errors);
        var files = (Argument<string[]>)command.Arguments.Single();
        string[] expected = parsed.GetValue(files) is { Length: > 0 } given ? given : ["-"];
        Assert.Equal(expected, plain);
    }

    [Theory]
    [InlineData("dump", "--help")]
    [InlineData("dump", "-h")]
    [InlineData("dump", "--bogus", "a.gz")]
    [InlineData("dump", "@args.rsp")]
    [InlineData("dump", "-mx")]
    [InlineData("replay", "a.gz")]
    [InlineData("--version")]
    public void Any_other_form_goes_through_the_command_tree(params string[] args) => Assert.Null(DumpArguments.PlainFiles(args));

    [Fact(Timeout = 120_000)]
    public async Task The_program_prints_what_the_dump_runner_prints_and_still_gives_the_command_trees_help()
    {
        string path = Corpus.PathOf(File2016);
        using var expected = new MemoryStream();
        Assert.Equal(DumpRunner.ExitOk, DumpRunner.Run([path], expected, TextWriter.Null));

        var (exit, stdout, stderr) = await RunProgramAsync("dump", "-m", path);
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected.ToArray(), stdout);

        (exit, stdout, stderr) = await RunProgramAsync("dump", "--help");
        Assert.True(exit == 0, stderr);
        string help = System.Text.Encoding.UTF8.GetString(stdout);
        Assert.Contains("Usage:", help);
        Assert.Contains("bgpdump 1.6.2", help);
    }

    /// <summary>The CLI (copied beside the tests by the project reference) in its own process.</summary>
    private static Task<(int Exit, byte[] Stdout, string Stderr)> RunProgramAsync(params string[] args) =>
        ProgramRun.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "bgpstream.dll"), .. args]);
}
