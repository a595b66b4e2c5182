using BgpStream.Fuzzing;
using BgpStream.TestSupport;
using ICSharpCode.SharpZipLib.BZip2;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Our bzip2 block decoder (Bzip2BlockDecoder, many-walk inverse BWT) against libbz2 and the
/// original data: on the corpus's real .bz2 files and on data shaped to reach every part of the
/// format, compressed by libbz2's encoder (what bzip2 and the archives use) and by SharpZipLib's
/// independent one.
/// Every block must be decoded by our decoder (none left to libbz2) and equal the reference;
/// damaged blocks must give what libbz2 alone gives.
/// </summary>
public class Bzip2BlockDecoderTests
{
    public static TheoryData<string> CorpusBzip2Files() =>
        new(Corpus.MrtFiles().Where(f => f.EndsWith(".bz2", StringComparison.Ordinal)));

    private static (byte[] Output, long Decoded, long ToLibbz2) DecodeParallel(byte[] compressed, bool libbz2Only = false)
    {
        using var stream = new ParallelBzip2Stream(new MemoryStream(compressed), libbz2Only);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return (copy.ToArray(), stream.BlocksDecoded, stream.BlocksToLibbz2);
    }

    private static byte[] Compress(byte[] plain, int level, string encoder)
    {
        if (encoder == "libbz2") return Bzip2DecodeTarget.Compress(plain, level);
        using var output = new MemoryStream();
        using (var bz = new BZip2OutputStream(output, level) { IsStreamOwner = false }) bz.Write(plain);
        return output.ToArray();
    }


    [Theory]
    [MemberData(nameof(CorpusBzip2Files))]
    public void Corpus_files_decode_as_libbz2_decodes_them_with_every_block_ours(string file)
    {
        byte[] compressed = File.ReadAllBytes(Corpus.PathOf(file));
        var (ours, decoded, toLibbz2) = DecodeParallel(compressed);
        var (libbz2, _, libbz2Blocks) = DecodeParallel(compressed, libbz2Only: true);

        Assert.Equal(libbz2.Length, ours.Length);
        Assert.True(libbz2.AsSpan().SequenceEqual(ours), "output differs from libbz2's");
        Assert.Equal(0, toLibbz2);
        Assert.Equal(libbz2Blocks, decoded);
        Assert.True(decoded > 0);
    }

    /// <summary>Inputs that reach each part of the format.</summary>
    public static TheoryData<string, int, string> Shapes()
    {
        var shapes = new (string Shape, int Level)[]
        {
            ("random", 9),        // every byte value, large MTF indices, incompressible blocks
            ("random", 1),
            ("long-runs", 9),     // long RUNA/RUNB runs: a few values, each repeated thousands of times in the BWT
            ("runs", 9),          // RLE1 runs of every length 1..600 (count bytes 0..255 and repeats)
            ("one-byte", 9),      // one value, 2 MB: long RUNA/RUNB runs of few symbols
            ("periodic", 9),      // "abc" repeated: T has many cycles (see LeftToLibbz2)
            ("text", 9),          // skewed alphabet, long Huffman codes for rare symbols
            ("text", 1),          // many 100 kB blocks
            ("tiny", 9),          // one byte
            ("four-at-end", 9),   // a run of four as the block's last bytes, without its count
            ("mrt", 2),           // real MRT (bgpdump's 2007 RIS update file)
        };
        var data = new TheoryData<string, int, string>();
        foreach (var (shape, level) in shapes)
            foreach (string encoder in new[] { "libbz2", "sharpziplib" })
                data.Add(shape, level, encoder);
        return data;
    }

    /// <summary>
    /// Blocks left to libbz2 on purpose: SharpZipLib randomises highly repetitive blocks (as
    /// bzip2 0.9.0 did), and a periodic text's T vector is several cycles, which the walks
    /// cannot join. libbz2 decodes both.
    /// </summary>
    private static bool LeftToLibbz2(string shape, string encoder) =>
        shape == "periodic" || (shape == "one-byte" && encoder == "sharpziplib");

    private static byte[] Make(string shape)
    {
        var random = new Random(20261130);
        switch (shape)
        {
            case "random":
                var r = new byte[1_500_000];
                random.NextBytes(r);
                return r;
            case "runs":
                var runs = new List<byte>();
                for (int length = 1; length <= 600; length++) runs.AddRange(Enumerable.Repeat((byte)(length % 251), length));
                return [.. runs];
            case "long-runs":
                var longRuns = new byte[1_000_000];
                for (int i = 0; i < longRuns.Length; i++) longRuns[i] = (byte)(i / 3 % 7 + random.Next(2) * 100);
                return longRuns;
            case "periodic":
                return Enumerable.Range(0, 600_000).Select(i => (byte)("abc"[i % 3])).ToArray();
            case "one-byte":
                return Enumerable.Repeat((byte)'x', 2_000_000).ToArray();
            case "text":
                var words = new[] { "route", "prefix", "AS", "withdrawn", "announce", "peer", "65535:0", "\n", " ", "2001:db8::/32" };
                var text = new System.Text.StringBuilder();
                while (text.Length < 1_200_000)
                {
                    text.Append(words[(int)Math.Min(words.Length - 1, -Math.Log(random.NextDouble()) * 2)]);
                    if (random.Next(1000) == 0) text.Append((char)random.Next(1, 256));
                }
                return text.ToString().Select(c => (byte)c).ToArray();
            case "tiny":
                return [42];
            case "four-at-end":
                return [1, 2, 3, 9, 9, 9, 9];
            case "mrt":
                using (var input = MrtInput.Open(Corpus.PathOf("RIPE-NCC__bgpdump/test_data/updates.20070211.0141.gz")))
                using (var copy = new MemoryStream())
                {
                    input.CopyTo(copy);
                    return copy.ToArray();
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(shape));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Shaped_data_round_trips(string shape, int level, string encoder)
    {
        byte[] plain = Make(shape);
        byte[] compressed = Compress(plain, level, encoder);
        var (ours, decoded, toLibbz2) = DecodeParallel(compressed);

        Assert.Equal(plain.Length, ours.Length);
        Assert.True(plain.AsSpan().SequenceEqual(ours), "output differs from the input");
        if (LeftToLibbz2(shape, encoder))
        {
            Assert.True(toLibbz2 > 0, "expected a block left to libbz2");
            return;
        }
        Assert.Equal(0, toLibbz2);
        Assert.True(decoded > 0);
    }

    [Fact]
    public void Damaged_blocks_give_what_libbz2_alone_gives()
    {
        // 100 kB blocks of real MRT; one bit flipped per case, all over the file.
        byte[] compressed = Compress(Make("mrt")[..400_000], 1, "libbz2");
        var random = new Random(7);
        for (int i = 0; i < 60; i++)
        {
            byte[] damaged = (byte[])compressed.Clone();
            int at = 4 + random.Next(damaged.Length - 4);
            damaged[at] ^= (byte)(1 << random.Next(8));

            string? differs = Bzip2DecodeTarget.Differs(damaged);
            Assert.True(differs is null, $"bit flip at byte {at}: {differs}");
        }
    }

    /// <summary>
    /// Every mutation the fuzzer has (bit flips, byte runs, truncation, splices, havoc) on a
    /// two-block file: our decoder and libbz2 alone read it alike. The fuzzer runs the same check
    /// for as many cases as asked (<c>benchmarks/BgpStream.Fuzz -- --bzip2 CASES</c>).
    /// </summary>
    [Fact]
    public void Mutated_streams_give_what_libbz2_alone_gives()
    {
        byte[] compressed = Bzip2DecodeTarget.Compress(Make("mrt")[..150_000], 1);
        var buffer = new byte[Mutator.MaxOutputLength(compressed.Length)];
        for (long i = 0; i < 300; i++)
        {
            var rng = SplitMix64.ForCase(20261130, i);
            var kind = Mutator.AllKinds[rng.Next(Mutator.AllKinds.Length)];
            ulong seed = rng.NextUInt64();
            int n = Mutator.Mutate(compressed, kind, seed, buffer);
            string? differs = Bzip2DecodeTarget.Differs(buffer[..n]);
            Assert.True(differs is null, $"case {i} ({kind}, seed 0x{seed:x}): {differs}");
        }
    }

    /// <summary>
    /// A block magic destroyed: the splitter sees the two blocks as one piece. Our decoder must
    /// not decode the first block and drop the rest quietly (the fuzzer found it doing that): the
    /// leftover bits send the piece to libbz2, which reports the damage.
    /// </summary>
    [Fact]
    public void A_destroyed_block_magic_is_reported_not_skipped()
    {
        byte[] compressed = Bzip2DecodeTarget.Compress(Make("mrt")[..300_000], 1);
        var magics = new List<long>();
        ulong window = 0;
        for (long bit = 0; bit < compressed.Length * 8L; bit++)
        {
            window = (window << 1) | (uint)((compressed[bit >> 3] >> (7 - (int)(bit & 7))) & 1);
            if (bit >= 47 && (window & 0xFFFF_FFFF_FFFF) == 0x314159265359) magics.Add(bit - 47);
        }
        Assert.Equal(3, magics.Count);
        long second = magics[1] + 20; // a bit inside the second block's magic
        compressed[second >> 3] ^= (byte)(0x80 >> (int)(second & 7));

        string ours = Bzip2DecodeTarget.Outcome(compressed, libbz2Only: false);
        Assert.Contains("damaged", ours);
        Assert.Null(Bzip2DecodeTarget.Differs(compressed));
    }

    [Fact]
    public void Crc_equals_a_bitwise_computation()
    {
        var random = new Random(3);
        foreach (int length in new[] { 0, 1, 7, 8, 9, 63, 64, 1000 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            uint crc = 0xFFFF_FFFF;
            foreach (byte b in data)
            {
                crc ^= (uint)b << 24;
                for (int k = 0; k < 8; k++) crc = (crc & 0x8000_0000) != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1;
            }
            Assert.Equal(~crc, Bzip2Crc.Compute(data));
        }
    }
}
