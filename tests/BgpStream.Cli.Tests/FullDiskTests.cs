using System.CommandLine;
using System.Diagnostics;
using BgpStream.Cli;
using BgpStream.TestSupport;

namespace BgpStream.Cli.Tests;

/// <summary>
/// A full disk under --out: a clear message naming the file, a failing exit status, and no file
/// left behind under either name (no half-written archive, no orphaned .tmp). The disk is a
/// 256 KiB tmpfs mounted for the test (the tests run as root, as the interop tests need).
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class FullDiskTests : IDisposable
{
    private readonly string _mount = Directory.CreateTempSubdirectory("bgpstream-full-").FullName;

    public FullDiskTests() => Run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", _mount);

    public void Dispose()
    {
        Run("umount", _mount);
        Directory.Delete(_mount);
    }

    [Theory]
    [InlineData("arrow")]
    [InlineData("jsonl")]
    public void Replay_into_a_full_disk_fails_clearly_and_leaves_no_file(string format)
    {
        var root = new RootCommand { ReplayCommand.Create() };
        var err = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        int exit;
        try
        {
            exit = root.Parse(["replay", Corpus.PathOf("RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz"),
                "--format", format, "--out", Path.Combine(_mount, "out"), "--no-progress"]).Invoke();
        }
        finally
        {
            Console.SetError(err);
        }
        Assert.NotEqual(0, exit);
        Assert.Matches($@"bgpstream replay: a sink failed.*No space left on device.*{Path.Combine(_mount, "out")}/updates\.20160811\.1600\.{format}\.tmp", captured.ToString());
        Assert.Empty(Directory.GetFiles(Path.Combine(_mount, "out")));
    }

    private static void Run(string command, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true })!;
        string error = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(10)), $"{command} did not finish");
        Assert.True(p.ExitCode == 0, $"{command} {string.Join(' ', args)}: {error} (these tests mount a tmpfs: they need root)");
    }
}

/// <summary>Tests that swap <see cref="Console.Error"/> run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
