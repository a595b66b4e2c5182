using System.Diagnostics;
using BgpStream.Fuzzing;
using BgpStream.Mrt;
using BgpStream.TestSupport;

/// <summary>
/// <c>--bzip2</c>: the Mutator's strategies over a real MRT file compressed by libbz2 in 100 kB
/// blocks; every case must read the same through our block decoder as through libbz2 alone
/// (<see cref="Bzip2DecodeTarget"/>), within 10 s. Exit 0 clean, 2 a difference, 3 a hang.
/// </summary>
internal static class Bzip2Fuzz
{
    public static int Run(string[] args)
    {
        long cases = args.Length > 0 ? long.Parse(args[0]) : 20_000;
        ulong seed = args.Length > 1 ? ulong.Parse(args[1]) : 1;

        byte[] plain;
        using (var input = MrtInput.Open(Corpus.PathOf("RIPE-NCC__bgpdump/test_data/updates.20070211.0141.gz")))
        using (var copy = new MemoryStream())
        {
            input.CopyTo(copy);
            plain = copy.ToArray()[..300_000];
        }
        byte[] compressed = Bzip2DecodeTarget.Compress(plain, 1);
        var buffer = new byte[Mutator.MaxOutputLength(compressed.Length)];
        Console.WriteLine($"bzip2 fuzz: {plain.Length:N0} bytes of MRT in {compressed.Length:N0} compressed (100 kB blocks), {cases:N0} cases, seed {seed}");

        long current = -1, started = 0;
        var watchdog = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(500);
                if (Interlocked.Read(ref current) >= 0 && Stopwatch.GetElapsedTime(Interlocked.Read(ref started)) > TimeSpan.FromSeconds(10))
                {
                    Console.WriteLine($"HANG: case {Interlocked.Read(ref current)} has run for more than 10 s");
                    Environment.Exit(3);
                }
            }
        }) { IsBackground = true };
        watchdog.Start();

        var clock = Stopwatch.StartNew();
        int differences = 0;
        var byKind = new long[Mutator.AllKinds.Length];
        for (long i = 0; i < cases; i++)
        {
            var rng = SplitMix64.ForCase(seed, i);
            var kind = Mutator.AllKinds[rng.Next(Mutator.AllKinds.Length)];
            ulong mutationSeed = rng.NextUInt64();
            int n = Mutator.Mutate(compressed, kind, mutationSeed, buffer);
            Interlocked.Exchange(ref started, Stopwatch.GetTimestamp());
            Interlocked.Exchange(ref current, i);
            string? differs = Bzip2DecodeTarget.Differs(buffer[..n]);
            byKind[(int)kind]++;
            if (differs is not null && differences++ < 20)
                Console.WriteLine($"DIFFERENCE case {i} ({kind}, seed 0x{mutationSeed:x}): {differs}");
            if ((i + 1) % 5_000 == 0)
                Console.WriteLine($"  {i + 1:N0} cases, {clock.Elapsed.TotalSeconds:F1} s, {differences} differences");
        }
        Interlocked.Exchange(ref current, -1);
        Console.WriteLine("cases by mutation: " + string.Join(", ", Mutator.AllKinds.Select(k => $"{k}={byKind[(int)k]}")));
        Console.WriteLine($"bzip2 fuzz summary: cases={cases} seed={seed} time={clock.Elapsed.TotalSeconds:F1}s differences={differences}");
        return differences > 0 ? 2 : 0;
    }
}
