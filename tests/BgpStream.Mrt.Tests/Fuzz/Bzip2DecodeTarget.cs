using System.Runtime.InteropServices;
using System.Security.Cryptography;
using BgpStream.Mrt;

namespace BgpStream.Fuzzing;

/// <summary>
/// Damaged bzip2 through our block decoder and through libbz2 alone must read the same: the same
/// bytes and the same errors at the same places. Our decoder is unsafe code over hostile input, so
/// this is where a wrong bound would show (as a crash, or as output libbz2 would not give).
/// Shared by the property test (tests/BgpStream.Mrt.Tests) and the fuzzer (benchmarks/BgpStream.Fuzz).
/// </summary>
public static class Bzip2DecodeTarget
{
    /// <summary>libbz2's own encoder (what bzip2 and the archives use).</summary>
    public static unsafe byte[] Compress(byte[] plain, int level)
    {
        var buffer = new byte[plain.Length + plain.Length / 100 + 600]; // libbz2's stated bound
        uint length = (uint)buffer.Length;
        fixed (byte* dst = buffer)
        fixed (byte* src = plain)
        {
            int rc = BZ2_bzBuffToBuffCompress(dst, &length, src, (uint)plain.Length, level, 0, 0);
            if (rc != 0) throw new InvalidOperationException($"BZ2_bzBuffToBuffCompress: {rc}");
        }
        return buffer[..(int)length];
    }

    [DllImport("libbz2.so.1.0")]
    private static extern unsafe int BZ2_bzBuffToBuffCompress(byte* dest, uint* destLength, byte* source, uint sourceLength, int blockSize100k, int verbosity, int workFactor);

    /// <summary>Null when both decoders read <paramref name="compressed"/> alike; else both outcomes.</summary>
    public static string? Differs(byte[] compressed)
    {
        string ours = Outcome(compressed, libbz2Only: false);
        string libbz2 = Outcome(compressed, libbz2Only: true);
        return ours == libbz2 ? null : $"ours {ours}, libbz2 {libbz2}";
    }

    /// <summary>What a reader sees: how many bytes, their hash, and each error with its position.</summary>
    public static string Outcome(byte[] compressed, bool libbz2Only)
    {
        using var stream = new ParallelBzip2Stream(new MemoryStream(compressed), libbz2Only);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var events = new List<string>();
        var buffer = new byte[65536];
        long total = 0;
        while (true)
        {
            int n;
            try
            {
                n = stream.Read(buffer);
            }
            catch (Exception e) when (e is CompressedDataGapException or InvalidDataException)
            {
                events.Add($"{total}:{e.GetType().Name}:{e.Message}");
                if (e is InvalidDataException) break;
                continue;
            }
            if (n == 0) break;
            hash.AppendData(buffer.AsSpan(0, n));
            total += n;
        }
        return $"{total} bytes {Convert.ToHexString(hash.GetHashAndReset())} [{string.Join("; ", events)}]";
    }
}
