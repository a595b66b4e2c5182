using System.Buffers.Binary;

namespace BgpStream.TestSupport;

/// <summary>How one input is damaged. Shared by the FsCheck property tests and the BgpStream.Fuzz console.</summary>
public enum MutationKind : byte
{
    /// <summary>Flip 1–8 single bits.</summary>
    BitFlip,
    /// <summary>Overwrite 1–4 bytes with random or boundary values (0x00, 0x7F, 0x80, 0xFF…).</summary>
    ByteReplace,
    /// <summary>Cut the input at a random point (possibly to nothing).</summary>
    Truncate,
    /// <summary>Rewrite a length field (a hinted one when the caller knows where they are) with a nearby or boundary value.</summary>
    LengthField,
    /// <summary>Insert 1–16 random or repeated bytes.</summary>
    Insert,
    /// <summary>Remove a run of 1–16 bytes.</summary>
    Delete,
    /// <summary>Copy a run of the input over another place in it (duplicated attributes, repeated segments).</summary>
    Splice,
    /// <summary>2–6 of the above in a row.</summary>
    Havoc,
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and deterministic for a given seed on every platform.</summary>
public struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, bound); 0 when bound is 0.</summary>
    public int Next(int bound) => bound <= 0 ? 0 : (int)(NextUInt64() % (ulong)bound);

    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    public bool Chance(int oneIn) => Next(oneIn) == 0;

    /// <summary>A stream for case <paramref name="index"/> of a run seeded with <paramref name="seed"/>, independent of other cases.</summary>
    public static SplitMix64 ForCase(ulong seed, long index)
    {
        var r = new SplitMix64(seed ^ ((ulong)index * 0xD1B54A32D192ED03UL));
        r.NextUInt64();
        return r;
    }
}

/// <summary>
/// Deterministic structure-unaware mutations (with optional hints for where length fields are).
/// The same (input, kind, seed) always gives the same output, so a failing case is reproduced
/// from the three values printed with it.
/// </summary>
public static class Mutator
{
    public static readonly MutationKind[] AllKinds = Enum.GetValues<MutationKind>();

    // Values that sit on the edges decoders test against.
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x02, 0x03, 0x04, 0x0F, 0x10, 0x1F, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xC0, 0xF0, 0xFE, 0xFF];
    private static readonly ushort[] InterestingWords = [0, 1, 2, 3, 4, 18, 19, 23, 29, 255, 256, 4095, 4096, 4097, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF];

    /// <summary>Largest output any mutation produces from an input of <paramref name="inputLength"/> bytes.</summary>
    public static int MaxOutputLength(int inputLength) => inputLength + 6 * 16;

    public static byte[] Mutate(ReadOnlySpan<byte> input, MutationKind kind, ulong seed, ReadOnlySpan<int> lengthFieldHints = default)
    {
        var output = new byte[MaxOutputLength(input.Length)];
        int n = Mutate(input, kind, seed, output, lengthFieldHints);
        return output.AsSpan(0, n).ToArray();
    }

    /// <summary>
    /// Writes the mutated input into <paramref name="output"/> (at least <see cref="MaxOutputLength"/>
    /// bytes) and returns its length. Allocation free, for the fuzz loop.
    /// </summary>
    public static int Mutate(ReadOnlySpan<byte> input, MutationKind kind, ulong seed, Span<byte> output, ReadOnlySpan<int> lengthFieldHints = default)
    {
        if (output.Length < MaxOutputLength(input.Length)) throw new ArgumentException("output too small", nameof(output));
        var rng = new SplitMix64(seed);
        input.CopyTo(output);
        int length = input.Length;
        if (kind == MutationKind.Havoc)
        {
            int steps = rng.Next(2, 7);
            for (int i = 0; i < steps; i++)
                length = Apply(output, length, (MutationKind)rng.Next((int)MutationKind.Havoc), ref rng, lengthFieldHints);
            return length;
        }
        return Apply(output, length, kind, ref rng, lengthFieldHints);
    }

    private static int Apply(Span<byte> buf, int length, MutationKind kind, ref SplitMix64 rng, ReadOnlySpan<int> hints)
    {
        switch (kind)
        {
            case MutationKind.BitFlip:
            {
                if (length == 0) return 0;
                int flips = rng.Next(1, 9);
                for (int i = 0; i < flips; i++) buf[rng.Next(length)] ^= (byte)(1 << rng.Next(8));
                return length;
            }
            case MutationKind.ByteReplace:
            {
                if (length == 0) return 0;
                int count = rng.Next(1, 5);
                for (int i = 0; i < count; i++)
                    buf[rng.Next(length)] = rng.Chance(2) ? InterestingBytes[rng.Next(InterestingBytes.Length)] : (byte)rng.NextUInt64();
                return length;
            }
            case MutationKind.Truncate:
                // Bias towards cuts near the end, where "one byte short" bugs live.
                return rng.Chance(2) ? Math.Max(0, length - rng.Next(1, 9)) : rng.Next(length + 1);
            case MutationKind.LengthField:
                return CorruptLength(buf, length, ref rng, hints);
            case MutationKind.Insert:
            {
                int count = rng.Next(1, 17);
                int at = rng.Next(length + 1);
                buf[at..length].CopyTo(buf[(at + count)..]);
                byte fill = InterestingBytes[rng.Next(InterestingBytes.Length)];
                bool repeat = rng.Chance(2);
                for (int i = 0; i < count; i++) buf[at + i] = repeat ? fill : (byte)rng.NextUInt64();
                return length + count;
            }
            case MutationKind.Delete:
            {
                if (length == 0) return 0;
                int at = rng.Next(length);
                int count = Math.Min(rng.Next(1, 17), length - at);
                buf[(at + count)..length].CopyTo(buf[at..]);
                return length - count;
            }
            case MutationKind.Splice:
            {
                if (length < 2) return length;
                int count = rng.Next(1, Math.Min(16, length) + 1);
                int from = rng.Next(length - count + 1);
                int to = rng.Next(length + 1);
                Span<byte> chunk = stackalloc byte[16];
                buf.Slice(from, count).CopyTo(chunk);
                if (rng.Chance(2))
                {
                    // Insert the copy: the input grows, as with a repeated attribute.
                    buf[to..length].CopyTo(buf[(to + count)..]);
                    chunk[..count].CopyTo(buf[to..]);
                    return length + count;
                }
                int n = Math.Min(count, length - to);
                chunk[..n].CopyTo(buf[to..]);
                return length;
            }
            default:
                return length;
        }
    }

    private static int CorruptLength(Span<byte> buf, int length, ref SplitMix64 rng, ReadOnlySpan<int> hints)
    {
        if (length == 0) return 0;
        int at = -1;
        if (!hints.IsEmpty && !rng.Chance(4))
        {
            int hint = hints[rng.Next(hints.Length)];
            if (hint >= 0 && hint < length) at = hint;
        }
        if (at < 0) at = rng.Next(length);
        bool wide = at + 1 < length && rng.Chance(2);
        if (wide)
        {
            int current = BinaryPrimitives.ReadUInt16BigEndian(buf[at..]);
            int value = rng.Next(4) switch
            {
                0 => InterestingWords[rng.Next(InterestingWords.Length)],
                1 => current + rng.Next(1, 9),
                2 => current - rng.Next(1, 9),
                _ => length - at + rng.Next(-4, 5),
            };
            BinaryPrimitives.WriteUInt16BigEndian(buf[at..], (ushort)value);
        }
        else
        {
            int current = buf[at];
            int value = rng.Next(3) switch
            {
                0 => InterestingBytes[rng.Next(InterestingBytes.Length)],
                1 => current + rng.Next(1, 9),
                _ => current - rng.Next(1, 9),
            };
            buf[at] = (byte)value;
        }
        return length;
    }
}
