using System.Buffers;
using System.Buffers.Binary;

namespace BgpStream.Bgp;

/// <summary>The 19-byte BGP message header (RFC 4271 §4.1).</summary>
public readonly struct BgpMessageHeader
{
    public BgpMessageHeader(int length, BgpMessageType type)
    {
        Length = length;
        Type = type;
    }

    /// <summary>Total message length including the header.</summary>
    public int Length { get; }
    public BgpMessageType Type { get; }
    public int BodyLength => Length - BgpConstants.HeaderLength;

    /// <summary>
    /// Checks marker, length and type (RFC 4271 §6.1). <paramref name="maxLength"/> is 4096, or
    /// 65535 after RFC 8654 negotiation.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, int maxLength, out BgpMessageHeader header, out BgpError error)
    {
        header = default;
        error = default;
        if (data.Length < BgpConstants.HeaderLength)
        {
            error = BgpError.Truncated(data.Length);
            return false;
        }
        if (data[..16].IndexOfAnyExcept((byte)0xFF) >= 0)
        {
            error = new BgpError(BgpErrorKind.BadMarker, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 1, 0);
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[16..]);
        byte type = data[18];
        int min = type switch
        {
            1 => 29,
            2 => 23,
            3 => 21,
            4 => 19,
            5 => 23,
            _ => 19,
        };
        if (length < min || length > maxLength || (type == 4 && length != 19))
        {
            error = new BgpError(BgpErrorKind.BadMessageLength, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 2, 16);
            return false;
        }
        if (type is < 1 or > 5)
        {
            error = new BgpError(BgpErrorKind.BadMessageType, ErrorAction.SessionReset, NotificationCodes.MessageHeaderError, 3, 18);
            return false;
        }
        header = new BgpMessageHeader(length, (BgpMessageType)type);
        return true;
    }
}

/// <summary>Outcome of framing one message from a byte stream.</summary>
public enum FramingStatus : byte
{
    /// <summary>A whole message is available.</summary>
    Message,
    /// <summary>Not enough bytes yet; read more and try again.</summary>
    NeedMoreData,
    /// <summary>The header is invalid; the error says which NOTIFICATION to send.</summary>
    Malformed,
}

/// <summary>
/// Splits a byte stream into BGP messages (framing is separate from decoding, as in Kestrel's
/// parsers). Works on <see cref="ReadOnlySequence{T}"/> so that a message may straddle buffer
/// segments; it is copied only in that case.
/// </summary>
public static class BgpMessageFramer
{
    /// <summary>
    /// Frames the next message from <paramref name="buffer"/>. On <see cref="FramingStatus.Message"/>,
    /// <paramref name="message"/> holds the whole message (header included) and <paramref name="consumed"/>
    /// the position after it. When the message spans segments it is copied into <paramref name="scratch"/>,
    /// which must hold at least <paramref name="maxLength"/> bytes.
    /// </summary>
    public static FramingStatus TryFrame(in ReadOnlySequence<byte> buffer, int maxLength, Span<byte> scratch,
        out ReadOnlySpan<byte> message, out SequencePosition consumed, out BgpError error)
    {
        message = default;
        consumed = buffer.Start;
        error = default;
        if (buffer.Length < BgpConstants.HeaderLength) return FramingStatus.NeedMoreData;

        scoped ReadOnlySpan<byte> head;
        Span<byte> headCopy = stackalloc byte[BgpConstants.HeaderLength];
        if (buffer.FirstSpan.Length >= BgpConstants.HeaderLength) head = buffer.FirstSpan[..BgpConstants.HeaderLength];
        else
        {
            buffer.Slice(0, BgpConstants.HeaderLength).CopyTo(headCopy);
            head = headCopy;
        }
        if (!BgpMessageHeader.TryParse(head, maxLength, out var header, out error)) return FramingStatus.Malformed;
        if (buffer.Length < header.Length) return FramingStatus.NeedMoreData;

        if (buffer.FirstSpan.Length >= header.Length) message = buffer.FirstSpan[..header.Length];
        else
        {
            var slice = buffer.Slice(0, header.Length);
            slice.CopyTo(scratch);
            message = scratch[..header.Length];
        }
        consumed = buffer.GetPosition(header.Length);
        return FramingStatus.Message;
    }
}
