using System.CommandLine;
using BgpStream.Pipeline;
using BgpStream.Pipeline.Staging;
using BgpStream.Rib;
using BgpStream.Session;

namespace BgpStream.Cli;

/// <summary>
/// The sink options shared by <c>collect</c> and <c>replay</c>: <c>--stdout</c>, <c>--format</c>,
/// <c>--out</c>, <c>--rotate</c>, their checks and the sinks they build.
/// </summary>
internal sealed class SinkOptions
{
    public Option<bool> Stdout { get; } = new("--stdout") { Description = "Print one JSON object per line for every element and session event (docs/element-schema.md)." };
    public Option<string[]> Format { get; } = new("--format") { Description = "File sinks under --out (repeatable): mrt (BGP4MP_ET update files, as RIS/RouteViews archive them), arrow (Arrow IPC files of elements and session events), jsonl (JSON-lines files); docs/element-schema.md.", Arity = ArgumentArity.OneOrMore };
    public Option<string> OutDir { get; } = new("--out") { Description = "Directory for file sinks (default ./bgpstream-data).", DefaultValueFactory = _ => "bgpstream-data" };
    public Option<int> Rotate { get; } = new("--rotate") { Description = "Minutes per update file (default 15, as RouteViews; RIS uses 5).", DefaultValueFactory = _ => 15 };

    public Option<int> MaxFileMb { get; } = new("--max-file-mb") { Description = "Arrow files are published and a new part begins once a file reaches this size (MiB; default 1024).", DefaultValueFactory = _ => 1024 };
    public Option<string?> Spool { get; } = new("--spool") { Description = "Directory where batches wait on disk while a sink is behind (default OUT/spool); emptied as they drain." };

    public Option<int> LaneBatches { get; } = new("--lane-batches") { Description = "Batches (up to 4,096 records or 1 MiB each) a sink may have waiting in memory before the rest spill to the spool (default 16).", DefaultValueFactory = _ => 16 };

    public Option<double> RibHours { get; } = new("--rib-interval") { Description = "Hours between RIB snapshots of every peer's Adj-RIB-In: with --format mrt TABLE_DUMP_V2 bview.YYYYMMDD.HHMM.gz, with --format arrow rib.YYYYMMDD.HHMM.arrow (\"R\" rows; default 8, as RIS; 0: none).", DefaultValueFactory = _ => 8 };
    public KafkaOptions Kafka { get; } = new();
    /// <summary>Cancelled when shutdown begins (the Kafka sink then stops waiting for a full queue).</summary>
    public CancellationTokenSource Stopping { get; } = new();

    public DetectionOptions Detection { get; } = new();

    public IEnumerable<Option> All => [Stdout, Format, OutDir, Rotate, MaxFileMb, RibHours, Spool, LaneBatches, .. Kafka.All, .. Detection.All];

    /// <summary>The detectors built by <see cref="TryBuild"/>.</summary>
    public List<IDetector> Detectors { get; private set; } = [];

    public PipelineOptions Pipeline(ParseResult result, bool spool, Microsoft.Extensions.Logging.ILogger? log) => new()
    {
        SpoolDirectory = spool ? SpoolDirectory(result) : null,
        LaneCapacity = result.GetValue(LaneBatches),
        Log = log,
        Detectors = Detectors,
    };

    /// <summary>
    /// File descriptor 1 as a plain stream. Not <see cref="Console.OpenStandardOutput()"/>: on Unix its
    /// writes hold the console lock that stderr writes take too, so a stdout reader that stalls would
    /// stall every log line, and the stages that log (a lane starting to spool) with them.
    /// </summary>
    private static Stream OpenStdout() =>
        new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1 << 16);

    public string SpoolDirectory(ParseResult result) => result.GetValue(Spool) ?? Path.Combine(result.GetValue(OutDir)!, "spool");

    /// <summary>
    /// Checks the options and builds the sinks; on a problem prints <c>bgpstream COMMAND: ...</c> on
    /// stderr and returns false (exit status 2).
    /// </summary>
    /// <param name="collectorId">Our BGP Identifier, for the RIB snapshots' PEER_INDEX_TABLE.</param>
    public bool TryBuild(ParseResult result, string command, uint localAs, System.Net.IPAddress collectorId, Microsoft.Extensions.Logging.ILogger log,
        out List<IRecordSink> sinks, Func<SessionInfo, uint>? localAsOf = null)
    {
        sinks = [];
        var formats = result.GetValue(Format) ?? [];
        foreach (var f in formats.Where(f => f is not ("mrt" or "arrow" or "jsonl")))
        {
            Console.Error.WriteLine($"bgpstream {command}: --format {f}: choose mrt, arrow or jsonl");
            return false;
        }
        if (!result.GetValue(Stdout) && formats.Length == 0 && !Kafka.Requested(result))
        {
            Console.Error.WriteLine($"bgpstream {command}: choose a sink: --stdout (JSON lines), --format mrt|arrow|jsonl --out DIR and/or --kafka BOOTSTRAP");
            return false;
        }
        if (!Detection.TryBuild(result, command, out var detectors)) return false;
        Detectors = detectors;
        double ribHours = result.GetValue(RibHours);
        if (!(ribHours == 0 || ribHours * 60 >= 1) || double.IsInfinity(ribHours))
        {
            Console.Error.WriteLine($"bgpstream {command}: --rib-interval is 0 (no snapshots) or at least a minute (0.0167 hours)");
            return false;
        }
        if (result.GetValue(Rotate) < 1)
        {
            Console.Error.WriteLine($"bgpstream {command}: --rotate is at least 1 minute");
            return false;
        }
        if (result.GetValue(LaneBatches) < 1)
        {
            Console.Error.WriteLine($"bgpstream {command}: --lane-batches is at least 1");
            return false;
        }
        if (result.GetValue(MaxFileMb) < 1)
        {
            Console.Error.WriteLine($"bgpstream {command}: --max-file-mb is at least 1");
            return false;
        }
        try
        {
            var interval = TimeSpan.FromMinutes(result.GetValue(Rotate));
            var dir = result.GetValue(OutDir)!;
            // Before a sink reopens a NAME.tmp that a killed run left (docs/pipeline.md, "kill -9").
            if (formats.Length > 0) LeftoverTempFiles.SetAside(dir, log);
            foreach (var f in formats.Distinct())
            {
                sinks.Add(f switch
                {
                    "mrt" => new MrtUpdateFileSink(dir, interval, localAs, localAsOf: localAsOf),
                    "arrow" => new ArrowElementSink(dir, interval, maxFileBytes: result.GetValue(MaxFileMb) * (1L << 20)),
                    _ => new JsonLinesFileSink(dir, interval),
                });
            }
            var snapshotFormats = (formats.Contains("mrt") ? RibSnapshotFormats.Mrt : 0) | (formats.Contains("arrow") ? RibSnapshotFormats.Arrow : 0);
            if (snapshotFormats != 0 && ribHours > 0)
                sinks.Add(new RibSnapshotSink(dir, TimeSpan.FromHours(ribHours), collectorId, "bgpstream", formats: snapshotFormats));
            if (result.GetValue(Stdout)) sinks.Add(new JsonLinesStreamSink(OpenStdout()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"bgpstream {command}: --out {result.GetValue(OutDir)}: {e.Message}");
            foreach (var s in sinks) s.Dispose();
            sinks = [];
            return false;
        }
        if (!Kafka.TryBuild(result, command, localAs, log, out var kafka, localAsOf, Stopping.Token, Path.Combine(SpoolDirectory(result), "kafka")))
        {
            foreach (var s in sinks) s.Dispose();
            sinks = [];
            return false;
        }
        if (kafka is not null) sinks.Add(kafka);
        return true;
    }
}
