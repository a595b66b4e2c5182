using System.Buffers;
using BgpStream.Fuzzing;
using BgpStream.TestSupport;

namespace BgpStream.Bgp.Tests;

/// <summary>One framed message of a capture, with what its decoder said.</summary>
internal sealed record DecodedMessage(string Flow, long StreamOffset, BgpMessageType Type, byte[] Bytes, BgpError Error, BgpDecodeContext Context)
{
    public int Length => Bytes.Length;
}

/// <summary>A place where framing failed: a malformed header, or a message cut off by the end of the captured bytes.</summary>
internal sealed record FramingProblem(string Flow, long StreamOffset, BgpError Error, bool TruncatedAtEnd);

/// <summary>
/// Frames and decodes every BGP message of a capture. Each direction of each TCP connection is
/// framed as one span, as 1-byte segments and as random segments, and the three must agree. After
/// a malformed header the stream is searched for the next marker, as tcpdump does, so that crafted
/// captures with junk between messages still have all their messages decoded. UPDATEs are decoded
/// with the context the connection's OPENs negotiated or, without OPENs, the first of the usual
/// contexts under which they validate.
/// </summary>
internal sealed class CaptureDecoder
{
    private static readonly BgpDecodeContext[] Guesses =
    [
        BgpDecodeContext.Modern,
        BgpDecodeContext.Legacy.WithExtendedMessage(true),
        BgpDecodeContext.Modern.WithAddPathForAll(),
        BgpDecodeContext.Legacy.WithExtendedMessage(true).WithAddPathForAll(),
    ];

    private static readonly byte[] Marker = Enumerable.Repeat((byte)0xFF, 16).ToArray();

    public List<DecodedMessage> Messages { get; } = new();
    public List<FramingProblem> Problems { get; } = new();
    public DecodeStats Stats { get; } = new();
    public IReadOnlyList<TcpFlow> Flows { get; private set; } = [];

    public int Count(BgpMessageType type) => Messages.Count(m => m.Type == type);
    public IEnumerable<DecodedMessage> Of(BgpMessageType type) => Messages.Where(m => m.Type == type);

    /// <summary>Decodes the reassembled streams of a capture (a path relative to the corpus root).</summary>
    public static CaptureDecoder Streams(string capture)
    {
        var decoder = new CaptureDecoder();
        decoder.Flows = PcapBgp.Streams(Corpus.PathOf(capture));
        var chunks = decoder.Flows.SelectMany(f => f.Chunks.Select(c => (Flow: $"{f.Source}->{f.Destination}", Pair: Pair(f), c.StreamOffset, c.Data))).ToList();
        decoder.Run(chunks);
        return decoder;
    }

    /// <summary>Decodes every TCP payload on its own, as tcpdump (which does not reassemble) sees them.</summary>
    public static CaptureDecoder Segments(string capture)
    {
        var decoder = new CaptureDecoder();
        var chunks = new List<(string, string, long, byte[])>();
        foreach (var packet in PcapReader.ReadFile(Corpus.PathOf(capture)))
        {
            if (!PacketDecoder.TryDecodeTcp(packet, out var segment) || segment!.Payload.Length == 0) continue;
            chunks.Add(($"packet {packet.Index}", $"packet {packet.Index}", 0, segment.Payload));
        }
        decoder.Run(chunks);
        return decoder;
    }

    private static string Pair(TcpFlow flow)
    {
        var ends = new[] { flow.Source.ToString(), flow.Destination.ToString() };
        Array.Sort(ends, StringComparer.Ordinal);
        return string.Join("|", ends);
    }

    private void Run(List<(string Flow, string Pair, long StreamOffset, byte[] Data)> chunks)
    {
        // First pass: frame everything; OPENs give each direction its capabilities.
        var framed = chunks.Select(c => (c.Flow, c.Pair, Messages: Frame(c.Flow, c.StreamOffset, c.Data))).ToList();
        var opens = new Dictionary<string, OpenCapabilities>();
        foreach (var (flow, _, messages) in framed)
            foreach (var (_, bytes) in messages)
                if (bytes[18] == (byte)BgpMessageType.Open && OpenMessage.TryParse(bytes.AsSpan(19), out var open, out _)
                    && open.TryGetCapabilities(out var caps, out _))
                    opens[flow] = caps;

        foreach (var (flow, pair, messages) in framed)
        {
            var reverse = framed.Select(f => f.Flow).FirstOrDefault(f => f != flow && framed.Any(x => x.Flow == f && x.Pair == pair));
            BgpDecodeContext? negotiated = null;
            bool haveSender = opens.TryGetValue(flow, out var sender);
            bool haveReceiver = reverse is not null && opens.TryGetValue(reverse, out _);
            if (haveSender || haveReceiver)
            {
                var receiver = haveReceiver ? opens[reverse!] : sender;
                if (!haveSender) sender = receiver;
                // RFC 7911 §4 and RFC 6793 §4: what the receiver accepts from what the sender offered.
                negotiated = OpenCapabilities.Negotiate(receiver, sender).WithExtendedMessage(true);
            }
            foreach (var (offset, bytes) in messages) Decode(flow, offset, bytes, negotiated);
        }
    }

    private List<(long Offset, byte[] Bytes)> Frame(string flow, long streamOffset, byte[] data)
    {
        var messages = new List<(long, byte[])>();
        int pos = 0;
        while (pos < data.Length)
        {
            var remainder = data.AsMemory(pos);
            var whole = BgpDecodeTargets.Frame(new ReadOnlySequence<byte>(remainder), BgpConstants.MaxExtendedMessageLength, Stats);
            // The same bytes in 1-byte and in random segments must frame identically.
            Assert.Equal(whole, BgpDecodeTargets.Frame(SequenceBuilder.Chunked(remainder, 1), BgpConstants.MaxExtendedMessageLength, Stats));
            Assert.Equal(whole, BgpDecodeTargets.Frame(SequenceBuilder.RandomlySplit(remainder, (ulong)pos + 1, 37), BgpConstants.MaxExtendedMessageLength, Stats));
            foreach (var outcome in whole.Where(o => o.Status == FramingStatus.Message))
                messages.Add((streamOffset + pos + outcome.Start, data.AsSpan(pos + (int)outcome.Start, outcome.Length).ToArray()));
            var last = whole[^1];
            if (last.Status == FramingStatus.NeedMoreData)
            {
                if (last.Length > 0) Problems.Add(new FramingProblem(flow, streamOffset + pos + last.Start, default, TruncatedAtEnd: true));
                break;
            }
            int at = pos + (int)last.Start;
            Problems.Add(new FramingProblem(flow, streamOffset + at, last.Error, TruncatedAtEnd: false));
            int next = data.AsSpan(at + 1).IndexOf(Marker);
            if (next < 0) break;
            pos = at + 1 + next;
        }
        return messages;
    }

    private void Decode(string flow, long offset, byte[] bytes, BgpDecodeContext? negotiated)
    {
        var type = (BgpMessageType)bytes[18];
        var body = bytes.AsSpan(19);
        BgpError error = default;
        var context = negotiated ?? Guesses[0];
        switch (type)
        {
            case BgpMessageType.Open:
                if (OpenMessage.TryParse(body, out var open, out error)) open.TryGetCapabilities(out _, out error);
                break;
            case BgpMessageType.Update:
                if (negotiated is { } ctx) error = Validate(bytes, ctx);
                else
                {
                    // No OPEN seen: the first usual context that reads the UPDATE cleanly, else the one
                    // with the weakest error.
                    var best = (Error: Validate(bytes, Guesses[0]), Context: Guesses[0]);
                    foreach (var guess in Guesses.Skip(1))
                    {
                        if (!best.Error.IsError) break;
                        var e = Validate(bytes, guess);
                        if (!e.IsError || e.Action < best.Error.Action) best = (e, guess);
                    }
                    (error, context) = best;
                }
                break;
            case BgpMessageType.Notification:
                NotificationMessage.TryParse(body, out _, out error);
                break;
            case BgpMessageType.RouteRefresh:
                RouteRefreshMessage.TryParse(body, out _, out error);
                break;
        }
        if (error.IsError && (error.Offset < 0 || error.Offset > bytes.Length))
            Assert.Fail($"{flow} @{offset}: {type} error outside the message: {error}");
        Messages.Add(new DecodedMessage(flow, offset, type, bytes, error, context));
        // And every reader over the same bytes, with the fuzzers' invariants.
        BgpDecodeTargets.DecodeMessage(bytes, Stats);
    }

    private static BgpError Validate(byte[] message, BgpDecodeContext context) =>
        UpdateMessage.TryParseMessage(message, context, out var update, out var error) ? update.Validate() : error;
}
