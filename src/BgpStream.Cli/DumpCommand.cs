using System.CommandLine;
using BgpStream.Dump;

namespace BgpStream.Cli;

/// <summary><c>bgpstream dump [-m] FILE...</c>: bgpdump-compatible text output of MRT files.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "MRT files: plain, gzip or bzip2 (detected by content); '-' or none reads standard input.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var oneLine = new Option<bool>("-m")
        {
            Description = "One line per entry, '|'-separated, as 'bgpdump -m' prints (the only form; accepted for compatibility).",
        };
        var command = new Command("dump", "Print MRT records as Debian's bgpdump 1.6.2 does with -m. "
            + "Exit status: 0 clean, 1 some records were damaged (reported on stderr, the rest printed), 2 a file could not be read.")
        {
            files, oneLine,
        };
        command.SetAction(result =>
        {
            var paths = result.GetValue(files) is { Length: > 0 } given ? given : ["-"];
            return DumpRunner.Run(paths, Console.OpenStandardOutput(), Console.Error);
        });
        return command;
    }

    /// <summary>
    /// Runs <c>dump [-m] FILE...</c> without System.CommandLine when the arguments are only that
    /// (<see cref="DumpArguments.PlainFiles"/>); false for every other form, which then goes through the command tree.
    /// </summary>
    public static bool TryRunPlain(string[] args, out int exit)
    {
        exit = 0;
        if (DumpArguments.PlainFiles(args) is not { } paths) return false;
        exit = DumpRunner.Run(paths, Console.OpenStandardOutput(), Console.Error);
        return true;
    }
}
