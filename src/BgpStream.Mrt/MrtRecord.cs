namespace BgpStream.Mrt;

/// <summary>One MRT record (RFC 6396 §2): the common header and the body as a slice of the reader's buffer.</summary>
public readonly ref struct MrtRecord
{
    public MrtRecord(uint timestamp, uint microseconds, ushort type, ushort subtype, ReadOnlySpan<byte> body, long offset)
    {
        Timestamp = timestamp;
        Microseconds = microseconds;
        TypeValue = type;
        Subtype = subtype;
        Body = body;
        Offset = offset;
    }

    /// <summary>Seconds since the Unix epoch.</summary>
    public uint Timestamp { get; }
    /// <summary>The Extended Timestamp of _ET types (RFC 6396 §3), else 0.</summary>
    public uint Microseconds { get; }
    public ushort TypeValue { get; }
    public MrtType Type => (MrtType)TypeValue;
    public ushort Subtype { get; }
    /// <summary>The message field, after the microsecond timestamp for _ET types. Valid until the next read.</summary>
    public ReadOnlySpan<byte> Body { get; }
    /// <summary>Offset of the record's header in the (decompressed) input.</summary>
    public long Offset { get; }
    /// <summary>Offset of <see cref="Body"/> in the (decompressed) input.</summary>
    public long BodyOffset => Offset + (IsExtendedTimestamp ? MrtConstants.ExtendedHeaderLength : MrtConstants.HeaderLength);
    public bool IsExtendedTimestamp => Type is MrtType.Bgp4mpEt or MrtType.IsisEt or MrtType.Ospf3Et;
}

/// <summary>What kind of problem the reader met.</summary>
public enum MrtDiagnosticKind : byte
{
    /// <summary>The input ends inside a record header.</summary>
    TruncatedHeader,
    /// <summary>The input ends inside a record body.</summary>
    TruncatedRecord,
    /// <summary>A header with an unknown type/subtype or an impossible length; bytes were skipped to the next plausible record.</summary>
    CorruptHeader,
    /// <summary>A record's declared length is shorter than the data its writer put there; the record was extended to the next header.</summary>
    LengthMismatch,
    /// <summary>The gzip or bzip2 stream is corrupt or truncated; reading stops there.</summary>
    CompressedStreamError,
    /// <summary>A record body could not be decoded (reported by record decoders, not the reader).</summary>
    RecordDecodeError,
}

/// <summary>A problem found while reading, with its location. Allocation here is fine: it is off the hot path.</summary>
public sealed record MrtDiagnostic(string Source, long Offset, MrtDiagnosticKind Kind, string Message)
{
    public override string ToString() => $"{Source}: offset {Offset}: {Message}";
}
