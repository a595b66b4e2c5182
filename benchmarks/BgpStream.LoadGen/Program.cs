using BgpStream.LoadGen;

// The load generator of issue 3 ("Scale"): many sessions from loopback addresses, and one full
// table into the collector and into BIRD; and of issue 5: N full tables in an Adj-RIB-In and in BIRD. Results go to stdout as Markdown; progress to stderr.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Out.Write(Usage.Text);
    return args.Length == 0 ? 2 : 0;
}
Cleanup.InstallSignalHandlers();
try
{
    var options = new Args(args.Skip(1));
    return args[0] switch
    {
        "sessions" => await SessionsCommand.RunAsync(options, args),
        "peers" => await PeersCommand.RunAsync(options),
        "fulltable" => await FullTableCommand.RunAsync(options, args),
        "ribmemory" => await RibMemoryCommand.RunAsync(options, args),
        _ => Usage.Fail($"unknown command '{args[0]}'"),
    };
}
catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or FileNotFoundException or TimeoutException)
{
    Console.Error.WriteLine($"loadgen: {e.Message}");
    return 1;
}

internal static class Usage
{
    public const string Text = """
        usage: BgpStream.LoadGen <command> [options]

          sessions   N sessions from 127.64.0.0/10 (one address and one AS each), held for M minutes
                     --count N (2000) --hold-minutes M (10) --hold-time S (90) --connect-parallel P (256)
                     --collector inproc|ADDR:PORT (inproc) --replay-rate UPDATES_PER_S (0)
                     --tick-ms T (200: the in-process collector's timer tick)
                     inproc: the collector runs in this process, the peers in a child process, so that
                     each process's memory is its own; drops are counted on the collector's output channel
          fulltable  one full table from the corpus RIBs over one session, into the in-process collector
                     and (--bird) into BIRD 2, prefixes per second and the ratio
                     --prefixes N (1000000) --repeat R (3) --bird --timeout-seconds S (300)
          ribmemory  N peers each sending a full table (own AS, next hops and a share of own paths) into
                     an Adj-RIB-In behind the in-process collector and into BIRD 2: bytes per route each side
                     --peers N (10) --prefixes P (1000000) --timeout-seconds S (1200)
                     --pause-seconds S (0: once loaded, wait S s with the sessions up, for dotnet-gcdump)
          peers      (internal) the peer side of 'sessions' against --target ADDR:PORT

        """;

    public static int Fail(string message)
    {
        Console.Error.WriteLine($"loadgen: {message}");
        Console.Error.Write(Text);
        return 2;
    }
}
