using System.CommandLine;
using BgpStream.Dump;
using BgpStream.Mrt;

namespace BgpStream.Cli;

/// <summary><c>bgpstream dump [-m] FILE...</c>: bgpdump-compatible text output of MRT files.</summary>
internal static class DumpCommand
{
    public const int ExitOk = 0;
    public const int ExitDataErrors = 1;
    public const int ExitCannotOpen = 2;

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "MRT files: plain, .gz or .bz2 (detected by content); '-' reads standard input.",
            Arity = ArgumentArity.OneOrMore,
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
        command.SetAction(result => Run(result.GetValue(files)!, Console.OpenStandardOutput(), Console.Error));
        return command;
    }

    public static int Run(IReadOnlyList<string> files, Stream stdout, TextWriter stderr)
    {
        int exit = ExitOk;
        using var output = new Utf8Output(stdout);
        foreach (var file in files)
        {
            MrtReader reader;
            try
            {
                reader = MrtReader.Open(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                output.Flush();
                stderr.WriteLine($"bgpstream dump: {file}: cannot open: {e.Message}");
                exit = ExitCannotOpen;
                continue;
            }
            using (reader)
            {
                reader.Diagnostic = d =>
                {
                    output.Flush(); // keep stdout and stderr in order for a reader of both
                    stderr.WriteLine($"bgpstream dump: {d}");
                };
                var formatter = new BgpdumpFormatter(output)
                {
                    RecordError = (offset, message) => reader.Report(offset, MrtDiagnosticKind.RecordDecodeError, message),
                };
                while (reader.TryRead(out var record)) formatter.Format(record);
                if (reader.DiagnosticCount > 0 && exit == ExitOk) exit = ExitDataErrors;
            }
        }
        return exit;
    }
}
