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
    /// (<see cref="PlainFiles"/>); false for every other form, which then goes through the command tree.
    /// </summary>
    public static bool TryRunPlain(string[] args, out int exit)
    {
        exit = 0;
        if (PlainFiles(args) is not { } paths) return false;
        exit = DumpRunner.Run(paths, Console.OpenStandardOutput(), Console.Error);
        return true;
    }

    /// <summary>
    /// The files of <c>dump [-m] FILE...</c> ("-" when none), or null when the arguments hold anything
    /// else: help, an unknown option, an <c>@</c> response file. For the forms it accepts, the
    /// command tree would run the same files.
    /// </summary>
    internal static List<string>? PlainFiles(string[] args)
    {
        if (args.Length == 0 || args[0] != "dump") return null;
        var paths = new List<string>(args.Length);
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "-m") continue;
            if (a.Length == 0 || (a[0] == '-' && a != "-") || a[0] == '@') return null;
            paths.Add(a);
        }
        if (paths.Count == 0) paths.Add("-");
        return paths;
    }
}
