using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Dump;

/// <summary>
/// Prints MRT records the way Debian's bgpdump 1.6.2 prints them with <c>-m</c>: one line per
/// announced or withdrawn prefix, RIB entry and state change, '|'-separated. The rules (field
/// order, AS4_PATH reconciliation, which next hop, what is skipped) are bgpdump's, documented in
/// docs/bgpdump-format.md; where bgpdump loses data we print it and say so there.
/// </summary>
public sealed partial class BgpdumpFormatter
{
    private readonly Utf8Output _out;
    private readonly TextBuffer _head = new();
    private readonly TextBuffer _tail = new();
    private PeerIndexTable? _peerIndex;
    private readonly SessionContextTracker _sessions = new();

    public BgpdumpFormatter(Utf8Output output)
    {
        _out = output;
    }

    /// <summary>Where decode problems inside records go (the reader's diagnostics channel).</summary>
    public Action<long, string>? RecordError { get; set; }

    public long LinesWritten { get; private set; }

    public void Format(in MrtRecord record)
    {
        switch (record.Type)
        {
            case MrtType.Bgp4mp:
            case MrtType.Bgp4mpEt:
                FormatBgp4mp(record);
                break;
            case MrtType.TableDumpV2:
                FormatTableDumpV2(record);
                break;
            case MrtType.TableDump:
                FormatTableDump(record);
                break;
            case MrtType.Bgp:
                FormatLegacyBgp(record);
                break;
        }
    }

    private void Error(in MrtRecord record, string message) => RecordError?.Invoke(record.Offset, message);

    // ---- line pieces ----

    private void WriteLine(ReadOnlySpan<byte> head, in IpPrefix prefix, uint? pathId, ReadOnlySpan<byte> tail)
    {
        var span = _out.GetSpan(head.Length + IpText.MaxPrefixLength + 12 + tail.Length + 1);
        head.CopyTo(span);
        int n = head.Length;
        n += IpText.FormatPrefix(prefix, span[n..], Ipv6TextStyle.Bgpdump);
        if (pathId.HasValue)
        {
            span[n++] = (byte)'|';
            System.Buffers.Text.Utf8Formatter.TryFormat(pathId.Value, span[n..], out int w);
            n += w;
        }
        if (!tail.IsEmpty)
        {
            span[n++] = (byte)'|';
            tail.CopyTo(span[n..]);
            n += tail.Length;
        }
        span[n++] = (byte)'\n';
        _out.Advance(n);
        LinesWritten++;
    }

    /// <summary>"KIND|time|X|peer|peeras|".</summary>
    private static void BuildHead(TextBuffer head, ReadOnlySpan<byte> kind, in MrtRecord record, ReadOnlySpan<byte> entryType,
        in IpAddressValue peer, uint peerAs)
    {
        head.Clear();
        head.Append(kind);
        head.Append((byte)'|');
        head.AppendTimestamp(record.Timestamp, record.Microseconds, record.IsExtendedTimestamp);
        head.Append((byte)'|');
        head.Append(entryType);
        head.Append((byte)'|');
        head.Append(peer);
        head.Append((byte)'|');
        head.Append(peerAs);
        head.Append((byte)'|');
    }

    private void WriteStateLine(ReadOnlySpan<byte> kind, in MrtRecord record, in IpAddressValue peer, uint peerAs, ushort oldState, ushort newState)
    {
        BuildHead(_head, kind, record, "STATE"u8, peer, peerAs);
        _head.Append(oldState);
        _head.Append((byte)'|');
        _head.Append(newState);
        _head.Append((byte)'\n');
        _out.Write(_head.Span);
        LinesWritten++;
    }
}
