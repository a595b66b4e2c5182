namespace BgpStream.TestSupport;

/// <summary>A contiguous run of one direction's byte stream.</summary>
public sealed record TcpChunk(long StreamOffset, byte[] Data, int FirstPacketIndex);

/// <summary>
/// One direction of a TCP connection, reassembled in sequence order. Retransmitted bytes are kept
/// once; missing bytes (segments not captured, payload cut by the snap length) split the stream
/// into several <see cref="Chunks"/>, because bytes on either side of a hole are not adjacent.
/// </summary>
public sealed class TcpFlow
{
    public TcpFlow(TcpEndpoint source, TcpEndpoint destination, IReadOnlyList<TcpChunk> chunks, int segments, bool sawSyn)
    {
        Source = source;
        Destination = destination;
        Chunks = chunks;
        Segments = segments;
        SawSyn = sawSyn;
    }

    public TcpEndpoint Source { get; }
    public TcpEndpoint Destination { get; }
    public IReadOnlyList<TcpChunk> Chunks { get; }
    public int Segments { get; }
    /// <summary>The capture holds the connection's SYN, so the stream starts at its first byte.</summary>
    public bool SawSyn { get; }
    public bool HasGaps => Chunks.Count > 1;
    public long TotalBytes => Chunks.Sum(c => (long)c.Data.Length);

    public override string ToString() => $"{Source} -> {Destination} ({TotalBytes} bytes in {Chunks.Count} chunk(s))";
}

/// <summary>Groups TCP segments by direction and puts each direction's payload back in order.</summary>
public static class TcpReassembler
{
    public static IReadOnlyList<TcpFlow> Reassemble(IEnumerable<PcapPacket> packets)
    {
        var byFlow = new Dictionary<(TcpEndpoint, TcpEndpoint), List<TcpSegment>>();
        var order = new List<(TcpEndpoint, TcpEndpoint)>();
        foreach (var packet in packets)
        {
            if (!PacketDecoder.TryDecodeTcp(packet, out var segment)) continue;
            var key = (segment!.Source, segment.Destination);
            if (!byFlow.TryGetValue(key, out var list))
            {
                byFlow[key] = list = new List<TcpSegment>();
                order.Add(key);
            }
            list.Add(segment);
        }
        var flows = new List<TcpFlow>();
        foreach (var key in order) flows.Add(Build(key.Item1, key.Item2, byFlow[key]));
        return flows;
    }

    private static TcpFlow Build(TcpEndpoint source, TcpEndpoint destination, List<TcpSegment> segments)
    {
        // Sequence numbers wrap at 2^32: measure every segment against the first one seen, as a
        // signed 32-bit distance, and let the earliest byte (or the SYN's ISN + 1) be offset 0.
        uint reference = segments[0].Sequence;
        var syn = segments.FirstOrDefault(s => s.Syn);
        long Relative(uint seq) => (int)(seq - reference);
        long origin = syn is not null ? Relative(syn.Sequence) + 1
            : segments.Where(s => s.Payload.Length > 0).Select(s => Relative(s.Sequence)).DefaultIfEmpty(0).Min();

        var ordered = segments
            .Select((s, i) => (Segment: s, Start: Relative(s.Sequence) + (s.Syn ? 1 : 0) - origin, Order: i))
            .Where(x => x.Segment.Payload.Length > 0)
            .OrderBy(x => x.Start).ThenBy(x => x.Order)
            .ToList();

        var chunks = new List<TcpChunk>();
        var current = new MemoryStream();
        long chunkStart = 0, expected = 0;
        int firstPacket = -1;
        bool holeAfterCurrent = false;
        foreach (var (segment, start, _) in ordered)
        {
            long end = start + segment.Payload.Length;
            if (end <= expected && current.Length > 0) continue; // pure retransmission
            if (start > expected || holeAfterCurrent || current.Length == 0 && start != expected)
            {
                if (current.Length > 0) chunks.Add(new TcpChunk(chunkStart, current.ToArray(), firstPacket));
                current = new MemoryStream();
                chunkStart = start;
                expected = start;
                firstPacket = segment.PacketIndex;
                holeAfterCurrent = false;
            }
            if (current.Length == 0) firstPacket = segment.PacketIndex;
            int skip = (int)(expected - start);
            current.Write(segment.Payload, skip, segment.Payload.Length - skip);
            expected = end;
            // A payload cut by the snap length ends the contiguous run: its missing tail is a hole.
            if (segment.PayloadTruncated) holeAfterCurrent = true;
        }
        if (current.Length > 0) chunks.Add(new TcpChunk(chunkStart, current.ToArray(), firstPacket));
        return new TcpFlow(source, destination, chunks, segments.Count, syn is not null);
    }
}

/// <summary>The BGP byte streams of a capture: every TCP direction with payload to or from the given ports.</summary>
public static class PcapBgp
{
    /// <summary>TCP 179, and 1179 which the corpus's loopback captures use.</summary>
    public static readonly int[] DefaultPorts = [179, 1179];

    public static IReadOnlyList<TcpFlow> Streams(string path, params int[] ports) => Streams(PcapReader.ReadFile(path), ports);

    public static IReadOnlyList<TcpFlow> Streams(IReadOnlyList<PcapPacket> packets, params int[] ports)
    {
        if (ports.Length == 0) ports = DefaultPorts;
        return TcpReassembler.Reassemble(packets)
            .Where(f => f.TotalBytes > 0 && (ports.Contains(f.Source.Port) || ports.Contains(f.Destination.Port)))
            .ToList();
    }
}
