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
        var sinkOptions = new SinkOptions();
        var command = new Command("replay", "Feed MRT update files through the collector's sinks (--stdout, --format mrt|arrow|jsonl), "
            + "merged in timestamp order. Exit status: 0 clean, 1 some records were damaged (reported on stderr), 2 a file could not be read or bad options.")
        {
            files,
        };
        foreach (var option in sinkOptions.All) command.Options.Add(option);
        command.SetAction(result => Run(result.GetValue(files) ?? [], result, sinkOptions));
        return command;
    }

    private static int Run(string[] files, ParseResult result, SinkOptions sinkOptions)
    {
        var runner = new ReplayRunner(Console.Error);
        if (!sinkOptions.TryBuild(result, "replay", 0, out var sinks, runner.LocalAsOf)) return 2;
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
