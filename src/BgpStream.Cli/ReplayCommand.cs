using System.CommandLine;

namespace BgpStream.Cli;

/// <summary><c>bgpstream replay FILE...</c>: MRT update files through the collector's sinks.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "MRT update files (BGP4MP, BGP4MP_ET): plain, gzip or bzip2; '-' reads standard input. Several are merged by record time.",
            Arity = ArgumentArity.OneOrMore,
        };
        var speed = new Option<string?>("--speed") { Description = "Pace by record time: 'realtime', or xN (x60: an hour of records per minute). Default: as fast as the sinks go." };
        var progress = new Option<bool>("--no-progress") { Description = "No progress on stderr (a bar on a terminal, a line every 10 s otherwise)." };
        var sinkOptions = new SinkOptions();
        var command = new Command("replay", "Feed MRT update files through the collector's sinks (--stdout, --format mrt|arrow|jsonl), "
            + "merged in timestamp order. Exit status: 0 clean, 1 some records were damaged (reported on stderr), 2 a file could not be read or bad options.")
        {
            files,
        };
        command.Options.Add(speed);
        command.Options.Add(progress);
        foreach (var option in sinkOptions.All) command.Options.Add(option);
        command.SetAction(result =>
        {
            double? factor = null;
            if (result.GetValue(speed) is { } text && !TryParseSpeed(text, out factor))
            {
                Console.Error.WriteLine($"bgpstream replay: --speed {text}: give realtime or xN with N > 0 (x10, x0.5)");
                return 2;
            }
            return Run(result.GetValue(files) ?? [], result, sinkOptions, factor, !result.GetValue(progress));
        });
        return command;
    }

    internal static bool TryParseSpeed(string text, out double? factor)
    {
        factor = null;
        if (text == "realtime")
        {
            factor = 1;
            return true;
        }
        var number = text.StartsWith('x') ? text[1..] : text;
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f)
            || !(f > 0) || double.IsInfinity(f)) return false;
        factor = f;
        return true;
    }

    private static int Run(string[] files, ParseResult result, SinkOptions sinkOptions, double? speed, bool progress)
    {
        var log = new StderrLogger(Microsoft.Extensions.Logging.LogLevel.Information);
        // Detection events go to the sinks; on stderr a replay only counts them.
        var pipelineLog = new StderrLogger(Microsoft.Extensions.Logging.LogLevel.Error);
        ReplayRunner? created = null;
        if (!sinkOptions.TryBuild(result, "replay", 0, System.Net.IPAddress.Any, log, out var sinks, s => created!.LocalAsOf(s))) return 2;
        var runner = created = new ReplayRunner(Console.Error)
        {
            Speed = speed,
            Progress = progress ? ReplayProgress.ForStderr() : null,
            Pipeline = sinkOptions.Pipeline(result, spool: false, pipelineLog),
        };
        int exit;
        try
        {
            exit = runner.Run(files, sinks);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"bgpstream replay: a sink failed: {e.Message}");
            exit = 2;
        }
        foreach (var sink in sinks)
        {
            try
            {
                sink.Dispose();
                Console.Error.WriteLine($"bgpstream replay: {sink.Summary}");
                if (sink.Lost > 0) exit = Math.Max(exit, 1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"bgpstream replay: a sink failed while closing its files: {e.Message}");
                exit = Math.Max(exit, 1);
            }
        }
        return exit;
    }
}
