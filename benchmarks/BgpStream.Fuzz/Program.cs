using System.Diagnostics;
using BgpStream.Fuzzing;
using BgpStream.TestSupport;

// Mutation fuzzer: real corpus inputs, the Mutator's strategies, every reader (the same decode
// targets the property tests run). Deterministic: case i of seed s is always the same input.
//
//   dotnet run -c Release --project benchmarks/BgpStream.Fuzz -- [cases=1000000] [seed=1] [--replay CASE]
//   dotnet run -c Release --project benchmarks/BgpStream.Fuzz -- --bzip2 [cases=20000] [seed=1]
//     (damaged bzip2 through our block decoder and through libbz2 alone must read alike)
//
// Exit codes: 0 clean; 1 an exception escaped a reader; 2 a violation (error offset outside the
// input, a reader making no progress, framing differing by segmentation); 3 a case hung; 4 memory
// grew beyond the bound.

if (args.Contains("--bzip2")) return Bzip2Fuzz.Run(args.Where(a => a != "--bzip2").ToArray());

long cases = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? long.Parse(args[0]) : 1_000_000;
ulong seed = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? ulong.Parse(args[1]) : 1;
long replay = -1;
int replayAt = Array.IndexOf(args, "--replay");
if (replayAt >= 0 && replayAt + 1 < args.Length) replay = long.Parse(args[replayAt + 1]);

const long MemoryBoundBytes = 64L * 1024 * 1024;
var hangLimit = TimeSpan.FromSeconds(10);

var load = Stopwatch.StartNew();
var messages = CorpusSamples.BgpMessages;
var records = CorpusSamples.MrtRecords;
var streams = CorpusSamples.MrtStreams;
var messageHints = messages.Select(m => Hints(m.Bytes, 0)).ToArray();
var recordHints = records.Select(r => RecordHints(r)).ToArray();
int largest = messages.Select(m => m.Bytes.Length).Concat(records.Select(r => r.Bytes.Length)).Concat(streams.Select(s => s.Bytes.Length)).Max();
Console.WriteLine($"samples: {messages.Count} BGP messages, {records.Count} MRT records, {streams.Count} MRT streams (largest {largest} bytes), loaded in {load.Elapsed.TotalSeconds:F1} s");

var buffer = new byte[Mutator.MaxOutputLength(largest) * 2];
var stats = new DecodeStats();
var byKind = new long[Mutator.AllKinds.Length];
var byTarget = new long[4];
string[] targetNames = ["message", "record", "framing", "stream"];
long exceptions = 0;
int violationsSaved = 0;
var crashes = new List<string>();
// Outside the repository: crashers worth keeping are committed as regression tests by hand.
var crashDir = Path.Combine(Path.GetTempPath(), "bgpstream-fuzz-crashers");

// Watchdog: a case that runs past the limit is a hang; report it and stop.
long caseStarted = Stopwatch.GetTimestamp();
long currentCase = -1;
string currentDescription = "";
var watchdog = new Thread(() =>
{
    while (true)
    {
        Thread.Sleep(500);
        long started = Interlocked.Read(ref caseStarted);
        if (Interlocked.Read(ref currentCase) >= 0 && Stopwatch.GetElapsedTime(started) > hangLimit)
        {
            Console.WriteLine($"HANG: case {Interlocked.Read(ref currentCase)} ({currentDescription}) has run for more than {hangLimit.TotalSeconds} s");
            Console.Out.Flush();
            Environment.Exit(3);
        }
    }
}) { IsBackground = true };
watchdog.Start();

GC.Collect();
GC.WaitForPendingFinalizers();
long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
long peakMemory = memoryBefore;
var clock = Stopwatch.StartNew();

long first = replay >= 0 ? replay : 0;
long last = replay >= 0 ? replay + 1 : cases;
for (long i = first; i < last; i++)
{
    var rng = SplitMix64.ForCase(seed, i);
    int roll = rng.Next(100);
    // 60 % messages, 33 % records, 5 % framing, 2 % whole streams (each MrtReader takes a 1 MiB buffer).
    int target = roll < 60 ? 0 : roll < 93 ? 1 : roll < 98 ? 2 : 3;
    var kind = Mutator.AllKinds[rng.Next(Mutator.AllKinds.Length)];
    ulong mutationSeed = rng.NextUInt64();
    Sample? sample = null;
    MrtRawRecord? record = null;
    int n;
    switch (target)
    {
        case 0:
        case 2:
        {
            int index = rng.Next(messages.Count);
            sample = messages[index];
            n = Mutator.Mutate(sample.Bytes, kind, mutationSeed, buffer, messageHints[index]);
            if (target == 2)
            {
                // A second, intact message after the damaged one: framing must find (or refuse) the boundary.
                var next = messages[rng.Next(messages.Count)].Bytes;
                next.CopyTo(buffer, n);
                n += next.Length;
            }
            break;
        }
        case 1:
        {
            int index = rng.Next(records.Count);
            record = records[index];
            n = Mutator.Mutate(record.Bytes, kind, mutationSeed, buffer, recordHints[index]);
            break;
        }
        default:
            sample = streams[rng.Next(streams.Count)];
            n = Mutator.Mutate(sample.Bytes, kind, mutationSeed, buffer);
            break;
    }
    string source = sample?.Source ?? $"{record!.Source} @{record.Offset}";
    stats.CurrentCase = $"case {i}";
    currentDescription = $"{targetNames[target]} {kind} seed 0x{mutationSeed:x} from {source}";
    Interlocked.Exchange(ref caseStarted, Stopwatch.GetTimestamp());
    Interlocked.Exchange(ref currentCase, i);
    long violationsBefore = stats.ViolationCount;
    try
    {
        switch (target)
        {
            case 0: BgpDecodeTargets.DecodeMessage(buffer.AsSpan(0, n), stats); break;
            case 1: MrtDecodeTargets.DecodeRecordBytes(buffer.AsSpan(0, n), stats); break;
            case 2: BgpDecodeTargets.FrameStream(buffer.AsMemory(0, n), mutationSeed, stats); break;
            default: MrtDecodeTargets.DecodeStream(buffer.AsSpan(0, n).ToArray(), stats); break;
        }
    }
    catch (Exception e)
    {
        exceptions++;
        string file = SaveCrasher(crashDir, i, targetNames[target], buffer.AsSpan(0, n));
        if (crashes.Count < 20)
            crashes.Add($"case {i}: {currentDescription}: {e.GetType().Name}: {e.Message}\n    at {FirstFrame(e)}\n    input saved to {file}");
        if (replay >= 0) throw;
    }
    if (stats.ViolationCount > violationsBefore && violationsSaved++ < 20)
        SaveCrasher(crashDir, i, targetNames[target] + "-violation", buffer.AsSpan(0, n));
    byKind[(int)kind]++;
    byTarget[target]++;
    if ((i + 1) % 100_000 == 0)
    {
        long memory = GC.GetTotalMemory(forceFullCollection: false);
        peakMemory = Math.Max(peakMemory, memory);
        Console.WriteLine($"  {i + 1:N0} cases, {clock.Elapsed.TotalSeconds:F1} s, {exceptions} exceptions, {stats.ViolationCount} violations, heap {memory / 1048576.0:F1} MiB");
    }
}
Interlocked.Exchange(ref currentCase, -1);
clock.Stop();

GC.Collect();
GC.WaitForPendingFinalizers();
long memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
long ran = last - first;

Console.WriteLine();
Console.WriteLine("cases by mutation: " + string.Join(", ", Mutator.AllKinds.Select(k => $"{k}={byKind[(int)k]}")));
Console.WriteLine("cases by target:   " + string.Join(", ", targetNames.Select((t, j) => $"{t}={byTarget[j]}")));
Console.WriteLine("BGP errors by kind (offset at end of input in brackets):");
foreach (var kind in Enum.GetValues<BgpStream.Bgp.BgpErrorKind>())
    if (stats.BgpErrors[(int)kind] > 0)
        Console.WriteLine($"  {kind,-32} {stats.BgpErrors[(int)kind],12:N0}  [{stats.BgpErrorsAtEnd[(int)kind]:N0}]");
Console.WriteLine("MRT reader diagnostics: " + (stats.MrtDiagnostics.Count == 0 ? "none" : string.Join(", ", stats.MrtDiagnostics.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))));
Console.WriteLine($"record decode errors: {stats.RecordErrors.Values.Sum():N0} in {stats.RecordErrors.Count} shapes; most frequent:");
foreach (var (message, count) in stats.RecordErrors.OrderByDescending(k => k.Value).Take(12))
    Console.WriteLine($"  {count,10:N0}  {message}");
foreach (var crash in crashes) Console.WriteLine("EXCEPTION " + crash);
foreach (var violation in stats.Violations) Console.WriteLine("VIOLATION " + violation);

bool memoryOk = memoryAfter - memoryBefore < MemoryBoundBytes;
Console.WriteLine(
    $"fuzz summary: cases={ran} seed={seed} time={clock.Elapsed.TotalSeconds:F1}s rate={ran / Math.Max(clock.Elapsed.TotalSeconds, 1e-9) / 1000:F1}k/s "
    + $"exceptions={exceptions} violations={stats.ViolationCount} messages={stats.Messages} records={stats.Records} framings={stats.Framings} "
    + $"streams={stats.Streams} bgp_errors={stats.TotalBgpErrors} record_errors={stats.RecordErrors.Values.Sum()} "
    + $"heap_before={memoryBefore / 1048576.0:F1}MiB heap_after={memoryAfter / 1048576.0:F1}MiB heap_peak_sampled={peakMemory / 1048576.0:F1}MiB "
    + $"memory={(memoryOk ? "bounded" : "GREW")}");

return exceptions > 0 ? 1 : stats.ViolationCount > 0 ? 2 : !memoryOk ? 4 : 0;

static int[] Hints(byte[] message, int offset)
{
    Span<int> hints = stackalloc int[64];
    int n = BgpDecodeTargets.LengthFieldHints(message.AsSpan(offset), hints);
    return hints[..n].ToArray().Select(h => h + offset).ToArray();
}

static int[] RecordHints(MrtRawRecord record)
{
    // MRT length (low half of the 4-octet field), then whatever the BGP message inside has.
    var hints = new List<int> { 10, 11 };
    var message = CorpusSamples.MessageOfBgp4mp(record);
    if (message is not null) hints.AddRange(Hints(message, 0).Select(h => h + record.Bytes.Length - message.Length));
    return hints.ToArray();
}

static string SaveCrasher(string directory, long index, string target, ReadOnlySpan<byte> input)
{
    Directory.CreateDirectory(directory);
    string path = Path.Combine(directory, $"case-{index}-{target}.bin");
    File.WriteAllBytes(path, input.ToArray());
    return path;
}

static string FirstFrame(Exception e) =>
    e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("BgpStream.Bgp") || l.Contains("BgpStream.Mrt"))
    ?? e.StackTrace?.Split('\n').FirstOrDefault()?.Trim() ?? "?";
