using System.Buffers;

namespace BgpStream.TestSupport;

/// <summary>
/// Builds multi-segment <see cref="ReadOnlySequence{T}"/> inputs, so that parsers are tested on
/// data that straddles buffer boundaries as it does when it comes from a socket or a pipe.
/// </summary>
public static class SequenceBuilder
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>The data as the given pieces, each its own segment (empty pieces included, as pipes produce them).</summary>
    public static ReadOnlySequence<byte> FromPieces(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(pieces[0], 0);
        var last = first;
        for (int i = 1; i < pieces.Count; i++) last = last.Append(pieces[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Segments of <paramref name="size"/> bytes (1 gives the worst case: every field straddles).</summary>
    public static ReadOnlySequence<byte> Chunked(ReadOnlyMemory<byte> data, int size)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (int i = 0; i < data.Length; i += size) pieces.Add(data.Slice(i, Math.Min(size, data.Length - i)));
        return FromPieces(pieces);
    }

    /// <summary>Segments cut at deterministic pseudo-random places (with an occasional empty segment).</summary>
    public static ReadOnlySequence<byte> RandomlySplit(ReadOnlyMemory<byte> data, ulong seed, int maxPiece = 64)
    {
        var rng = new SplitMix64(seed);
        var pieces = new List<ReadOnlyMemory<byte>>();
        int pos = 0;
        while (pos < data.Length)
        {
            if (rng.Chance(16)) pieces.Add(ReadOnlyMemory<byte>.Empty);
            int n = Math.Min(rng.Next(1, maxPiece + 1), data.Length - pos);
            pieces.Add(data.Slice(pos, n));
            pos += n;
        }
        return FromPieces(pieces);
    }
}
