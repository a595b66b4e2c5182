using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BgpStream.Fuzzing;
using BgpStream.TestSupport;

namespace BgpStream.Bgp.Tests;

/// <summary>
/// <see cref="BgpMessageFramer"/>: the three outcomes (message, need more data, malformed) must be
/// the same whether the bytes arrive in one span, one byte per segment, or in random segments.
/// </summary>
public class FramerTests
{
    // A stream of three messages: KEEPALIVE, NOTIFICATION (Cease / Administrative Reset), ROUTE-REFRESH.
    private static readonly byte[] Stream = Wire.Concat(
        Wire.Message(BgpMessageType.Keepalive),
        Wire.Message(BgpMessageType.Notification,
            0x06,                                    // Error code 6 Cease
            0x04),                                   // Subcode 4 Administrative Reset
        Wire.Message(BgpMessageType.RouteRefresh,
            0x00, 0x02,                              // AFI 2 IPv6
            0x00,                                    // Subtype 0: normal request (RFC 7313 §3.2)
            0x01));                                  // SAFI 1 unicast

    public static TheoryData<string> Layouts => new() { "whole", "1-byte", "random-7", "random-42" };

    private static ReadOnlySequence<byte> Layout(byte[] data, string layout) => layout switch
    {
        "whole" => new ReadOnlySequence<byte>(data),
        "1-byte" => SequenceBuilder.Chunked(data, 1),
        _ => SequenceBuilder.RandomlySplit(data, ulong.Parse(layout["random-".Length..]), maxPiece: 9),
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Frames_each_message_then_asks_for_more(string layout)
    {
        var buffer = Layout(Stream, layout);
        var scratch = new byte[BgpConstants.MaxMessageLength];
        var types = new List<byte>();
        var lengths = new List<int>();
        while (true)
        {
            var status = BgpMessageFramer.TryFrame(buffer, BgpConstants.MaxMessageLength, scratch, out var message, out var consumed, out var error);
            if (status != FramingStatus.Message)
            {
                Assert.Equal(FramingStatus.NeedMoreData, status);
                Assert.False(error.IsError);
                break;
            }
            types.Add(message[18]);
            lengths.Add(message.Length);
            buffer = buffer.Slice(consumed);
        }
        Assert.Equal([(byte)4, (byte)3, (byte)5], types);
        Assert.Equal([19, 21, 23], lengths);
        Assert.Equal(0, buffer.Length);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Partial_header_and_partial_body_need_more_data(string layout)
    {
        var scratch = new byte[BgpConstants.MaxMessageLength];
        // 18 bytes: one short of a header.
        var status = BgpMessageFramer.TryFrame(Layout(Stream[..18], layout), 4096, scratch, out _, out var consumed, out var error);
        Assert.Equal(FramingStatus.NeedMoreData, status);
        Assert.False(error.IsError);
        // KEEPALIVE, then the NOTIFICATION's header and one of its two body bytes.
        var buffer = Layout(Stream[..(19 + 20)], layout);
        Assert.Equal(FramingStatus.Message, BgpMessageFramer.TryFrame(buffer, 4096, scratch, out _, out consumed, out _));
        buffer = buffer.Slice(consumed);
        status = BgpMessageFramer.TryFrame(buffer, 4096, scratch, out _, out consumed, out error);
        Assert.Equal(FramingStatus.NeedMoreData, status);
        // Nothing is consumed: the caller keeps the 20 bytes and reads more (Kestrel's AdvanceTo(consumed, examined)).
        Assert.Equal(buffer.Start, consumed);
        Assert.Equal(20, buffer.Length);
    }

    [Fact]
    public void Eof_inside_a_message_is_need_more_data_with_bytes_left_over()
    {
        // The framer cannot know the input ended; "truncated at EOF" is NeedMoreData with a remainder
        // when the caller has nothing more to give. The reader of a finished stream must report it.
        var buffer = new ReadOnlySequence<byte>(Stream[..^1]);
        var scratch = new byte[4096];
        int messages = 0;
        FramingStatus status;
        while ((status = BgpMessageFramer.TryFrame(buffer, 4096, scratch, out _, out var consumed, out _)) == FramingStatus.Message)
        {
            messages++;
            buffer = buffer.Slice(consumed);
        }
        Assert.Equal(FramingStatus.NeedMoreData, status);
        Assert.Equal(2, messages);
        Assert.Equal(22, buffer.Length);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Bad_marker_in_the_second_message_is_malformed(string layout)
    {
        var data = (byte[])Stream.Clone();
        data[19 + 3] = 0x00; // fourth Marker octet of the NOTIFICATION
        var buffer = Layout(data, layout);
        var scratch = new byte[4096];
        Assert.Equal(FramingStatus.Message, BgpMessageFramer.TryFrame(buffer, 4096, scratch, out _, out var consumed, out _));
        buffer = buffer.Slice(consumed);
        var status = BgpMessageFramer.TryFrame(buffer, 4096, scratch, out _, out consumed, out var error);
        Assert.Equal(FramingStatus.Malformed, status);
        Assert.Equal(BgpErrorKind.BadMarker, error.Kind);
        Assert.Equal((1, 1), (error.NotificationCode, error.NotificationSubcode));
        // Offsets are relative to the message being framed.
        Assert.Equal(0, error.Offset);
        Assert.Equal(buffer.Start, consumed);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Length_over_the_limit_is_malformed_once_the_header_is_in(string layout)
    {
        // A 5,000-byte UPDATE: only the header is present, yet the length is already known to be bad.
        var data = new byte[19];
        data.AsSpan(0, 16).Fill(0xFF);   // Marker
        data[16] = 0x13; data[17] = 0x88; // Length 5000
        data[18] = 0x02;                  // Type UPDATE
        var status = BgpMessageFramer.TryFrame(Layout(data, layout), 4096, new byte[4096], out _, out _, out var error);
        Assert.Equal(FramingStatus.Malformed, status);
        Assert.Equal(BgpErrorKind.BadMessageLength, error.Kind);
        Assert.Equal(16, error.Offset);
        // RFC 8654: with extended messages negotiated the same header is fine and more data is needed.
        status = BgpMessageFramer.TryFrame(Layout(data, layout), 65535, new byte[65535], out _, out _, out error);
        Assert.Equal(FramingStatus.NeedMoreData, status);
        Assert.False(error.IsError);
    }

    [Fact]
    public void Message_inside_one_segment_is_a_slice_and_a_straddling_one_is_copied()
    {
        // Two segments: the KEEPALIVE and the first byte of the NOTIFICATION | the rest.
        var first = Stream.AsMemory(0, 20);
        var second = Stream.AsMemory(20);
        var buffer = SequenceBuilder.FromPieces([first, second]);
        var scratch = new byte[4096];

        Assert.Equal(FramingStatus.Message, BgpMessageFramer.TryFrame(buffer, 4096, scratch, out var message, out var consumed, out _));
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(message), ref Stream[0]), "an unsplit message must not be copied");
        buffer = buffer.Slice(consumed);

        Assert.Equal(FramingStatus.Message, BgpMessageFramer.TryFrame(buffer, 4096, scratch, out message, out consumed, out _));
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(message), ref scratch[0]), "a straddling message is copied to scratch");
        Assert.True(message.SequenceEqual(Stream.AsSpan(19, 21)));
    }

    [Fact]
    public void Real_capture_frames_identically_in_every_layout()
    {
        // bgp-4byte-asn.pcap: eight sessions of OPEN, UPDATE, NOTIFICATION and KEEPALIVE messages.
        var flows = PcapBgp.Streams(Corpus.PathOf("the-tcpdump-group__tcpdump/tests/bgp-4byte-asn.pcap"));
        var stats = new DecodeStats();
        int messages = 0;
        foreach (var chunk in flows.SelectMany(f => f.Chunks))
        {
            var whole = BgpDecodeTargets.Frame(new ReadOnlySequence<byte>(chunk.Data), 4096, stats);
            for (ulong seed = 1; seed <= 5; seed++)
                Assert.Equal(whole, BgpDecodeTargets.Frame(SequenceBuilder.RandomlySplit(chunk.Data, seed, maxPiece: 30), 4096, stats));
            Assert.Equal(whole, BgpDecodeTargets.Frame(SequenceBuilder.Chunked(chunk.Data, 1), 4096, stats));
            Assert.Equal(FramingStatus.NeedMoreData, whole[^1].Status);
            messages += whole.Count - 1;
        }
        // tshark: OPEN=8 UPDATE=10 NOTIFICATION=1 KEEPALIVE=16.
        Assert.Equal(35, messages);
        Assert.Empty(stats.Violations);
    }
}
