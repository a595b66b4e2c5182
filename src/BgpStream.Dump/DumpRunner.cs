using BgpStream.Mrt;

namespace BgpStream.Dump;

/// <summary>Runs the bgpdump-compatible dump over files: what <c>bgpstream dump</c> does, callable in-process.</summary>
public static class DumpRunner
{
    public const int ExitOk = 0;
    public const int ExitDataErrors = 1;
    public const int ExitCannotOpen = 2;

    /// <summary>Diagnostics of one kind printed per file before the rest are only counted.</summary>
    public const int DiagnosticsShownPerKind = 20;

    /// <summary>
    /// Dumps <paramref name="files"/> ("-" is standard input) to <paramref name="stdout"/>, problems
    /// to <paramref name="stderr"/>. Returns 0 when clean, 1 when records were damaged (all that
    /// could be read is printed), 2 when a file could not be opened.
    /// </summary>
    public static int Run(IEnumerable<string> files, Stream stdout, TextWriter stderr)
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
                var shown = new Dictionary<MrtDiagnosticKind, int>();
                reader.Diagnostic = d =>
                {
                    int n = shown.GetValueOrDefault(d.Kind) + 1;
                    shown[d.Kind] = n;
                    if (n > DiagnosticsShownPerKind) return;
                    output.Flush(); // keep stdout and stderr in order for a reader of both
                    stderr.WriteLine($"bgpstream dump: {d}");
                };
                var formatter = new BgpdumpFormatter(output)
                {
                    RecordError = (offset, message) => reader.Report(offset, MrtDiagnosticKind.RecordDecodeError, message),
                };
                while (reader.TryRead(out var record)) formatter.Format(record);
                foreach (var (kind, count) in shown)
                    if (count > DiagnosticsShownPerKind)
                        stderr.WriteLine($"bgpstream dump: {file}: {count - DiagnosticsShownPerKind} more {kind} problems not shown ({count} in all)");
                if (reader.DiagnosticCount > 0 && exit == ExitOk) exit = ExitDataErrors;
            }
        }
        return exit;
    }
}
