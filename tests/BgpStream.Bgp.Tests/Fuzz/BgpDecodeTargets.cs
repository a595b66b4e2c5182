using System.Buffers;
using System.Buffers.Binary;
using BgpStream.Bgp;
using BgpStream.TestSupport;

// Shared by the property tests (compiled here, linked into BgpStream.Mrt.Tests) and the
// BgpStream.Fuzz console (linked), so that both run exactly the same decoders and checks.
namespace BgpStream.Fuzzing;

/// <summary>
/// What the decoders made of the inputs: errors by kind, and "violations" — outcomes that are never
/// acceptable whatever the input (an error offset outside the input, a reader that stops making
/// progress, framing that differs between whole and segmented input). Exceptions are not caught
/// here: whoever drives the decoders decides what an escaped exception means.
/// </summary>
public sealed class DecodeStats
{
    private const int MaxKept = 20;

    public long Messages;
    public long Records;
    public long Streams;
    public long Framings;
    public readonly long[] BgpErrors = new long[Enum.GetValues<BgpErrorKind>().Length];
    /// <summary>Errors whose offset is exactly the input length ("the input ends here"), by kind.</summary>
    public readonly long[] BgpErrorsAtEnd = new long[Enum.GetValues<BgpErrorKind>().Length];
    public readonly Dictionary<string, long> MrtDiagnostics = new(StringComparer.Ordinal);
    public readonly Dictionary<string, long> RecordErrors = new(StringComparer.Ordinal);
    public readonly List<string> Violations = new();
    public long ViolationCount;
    /// <summary>Describes the case being decoded, for violation reports.</summary>
    public string CurrentCase = "";
    /// <summary>Framer scratch: room for the largest message (RFC 8654).</summary>
    public readonly byte[] Scratch = new byte[BgpConstants.MaxExtendedMessageLength];

    public long TotalBgpErrors => BgpErrors.Sum();

    /// <summary>
    /// Counts an error and checks where it points: inside the input, or exactly at its end for the
    /// kinds that mean "the input stops where this structure should start" (an empty body, a header
    /// cut short). Any other error must name a byte of the input.
    /// </summary>
    public void Check(in BgpError error, int inputLength, string where)
    {
        if (!error.IsError) return;
        BgpErrors[(int)error.Kind]++;
        if (error.Offset == inputLength)
        {
            BgpErrorsAtEnd[(int)error.Kind]++;
            if (!MayPointAtEnd(error.Kind)) Violation($"{where}: {error.Kind} points past the last byte of a {inputLength}-byte input: {error}");
        }
        if (error.Offset < 0 || error.Offset > inputLength)
            Violation($"{where}: error offset outside the {inputLength}-byte input: {error}");
    }

    // A missing attribute has no byte of its own: its error points at the (possibly empty) attribute field.
    public static bool MayPointAtEnd(BgpErrorKind kind) => kind is BgpErrorKind.Truncated or BgpErrorKind.BadMessageLength
        or BgpErrorKind.MalformedAttributeList or BgpErrorKind.MalformedNotification or BgpErrorKind.MalformedRouteRefresh
        or BgpErrorKind.MissingWellKnownAttribute;

    public void RecordError(string category, string? message)
    {
        if (message is null) return;
        var key = category + ": " + Normalise(message);
        RecordErrors[key] = RecordErrors.GetValueOrDefault(key) + 1;
    }

    public void MrtDiagnostic(string kind) => MrtDiagnostics[kind] = MrtDiagnostics.GetValueOrDefault(kind) + 1;

    public void Violation(string message)
    {
        ViolationCount++;
        if (Violations.Count < MaxKept) Violations.Add($"[{CurrentCase}] {message}");
    }

    /// <summary>A reader loop that has run more times than its input has bytes is not making progress.</summary>
    public bool Guard(ref int iterations, int inputLength, string where)
    {
        if (++iterations <= inputLength + 2) return true;
        Violation($"{where}: no progress after {iterations} reads of a {inputLength}-byte input");
        return false;
    }

    // Numbers vary per case; the shape of the message is what is counted.
    private static string Normalise(string message)
    {
        var chars = message.ToCharArray();
        int n = 0;
        for (int i = 0; i < chars.Length; i++)
        {
            // A number on its own becomes N; digits inside a word (BGP4MP) stay.
            if (char.IsAsciiDigit(chars[i]) && (n == 0 || !char.IsAsciiLetter(chars[n - 1]) || chars[n - 1] == 'N' && (n == 1 || !char.IsAsciiLetter(chars[n - 2]))))
            {
                if (n == 0 || chars[n - 1] != 'N') chars[n++] = 'N';
                continue;
            }
            chars[n++] = chars[i];
        }
        var s = new string(chars, 0, n);
        int paren = s.IndexOf(" (", StringComparison.Ordinal);
        return paren > 0 && s.Contains("error", StringComparison.Ordinal) ? s[..paren] : s;
    }
}

/// <summary>Runs every BGP reader of the codec over one input.</summary>
public static class BgpDecodeTargets
{
    /// <summary>Decode contexts every UPDATE is read with: each changes how the bytes split.</summary>
    public static readonly BgpDecodeContext[] Contexts =
    [
        BgpDecodeContext.Legacy,
        BgpDecodeContext.Modern,
        BgpDecodeContext.Modern.WithAddPathForAll(),
        BgpDecodeContext.Legacy.WithAddPath(Afi.IPv4, Safi.Unicast),
    ];

    /// <summary>Families MP_REACH / MP_UNREACH NLRI bytes are also read as, whatever the attribute says.</summary>
    public static readonly (Afi Afi, Safi Safi)[] Families =
    [
        (Afi.IPv4, Safi.Unicast), (Afi.IPv6, Safi.Unicast), (Afi.IPv4, Safi.Multicast), (Afi.IPv4, Safi.LabeledUnicast),
        (Afi.IPv6, Safi.LabeledUnicast), (Afi.IPv4, Safi.MplsVpn), (Afi.IPv6, Safi.MplsVpn), (Afi.IPv4, Safi.MulticastVpn),
        (Afi.IPv4, Safi.FlowSpec), (Afi.IPv6, Safi.FlowSpecVpn), (Afi.L2vpn, Safi.Evpn), (Afi.IPv4, Safi.Mvpn),
        (Afi.BgpLs, Safi.BgpLs), (Afi.IPv4, Safi.RouteTargetConstraint), ((Afi)99, (Safi)99),
    ];

    /// <summary>
    /// One BGP message (header included): header checks at both size limits, then every body
    /// decoder (OPEN, UPDATE under each context, NOTIFICATION, ROUTE-REFRESH) whatever the type
    /// octet says, so that garbage reaches all of them.
    /// </summary>
    public static void DecodeMessage(ReadOnlySpan<byte> message, DecodeStats stats)
    {
        stats.Messages++;
        int length = message.Length;
        bool ok = BgpMessageHeader.TryParse(message, BgpConstants.MaxExtendedMessageLength, out var header, out var error);
        stats.Check(error, length, "BgpMessageHeader(65535)");
        BgpMessageHeader.TryParse(message, BgpConstants.MaxMessageLength, out _, out error);
        stats.Check(error, length, "BgpMessageHeader(4096)");
        if (ok && (header.Length < BgpConstants.HeaderLength || header.Length > BgpConstants.MaxExtendedMessageLength || header.BodyLength < 0))
            stats.Violation($"header accepted with impossible length {header.Length}");

        foreach (var ctx in Contexts)
        {
            if (UpdateMessage.TryParseMessage(message, ctx, out var whole, out error)) ExerciseUpdate(whole, length, stats);
            else stats.Check(error, length, "UpdateMessage.TryParseMessage");
        }

        int end = ok ? Math.Min(header.Length, length) : length;
        if (length >= BgpConstants.HeaderLength) DecodeBodies(message[BgpConstants.HeaderLength..end], BgpConstants.HeaderLength, length, stats);
        else DecodeBodies(message, 0, length, stats);
    }

    /// <summary>Every body decoder over <paramref name="body"/>, which starts <paramref name="bodyOffset"/> bytes into an input of <paramref name="inputLength"/>.</summary>
    public static void DecodeBodies(ReadOnlySpan<byte> body, int bodyOffset, int inputLength, DecodeStats stats,
        ReadOnlySpan<BgpDecodeContext> contexts = default)
    {
        if (contexts.IsEmpty) contexts = Contexts;
        foreach (var ctx in contexts)
        {
            if (UpdateMessage.TryParse(body, ctx, out var update, out var error, bodyOffset)) ExerciseUpdate(update, inputLength, stats);
            else stats.Check(error, inputLength, "UpdateMessage.TryParse");
        }
        DecodeOpen(body, bodyOffset, inputLength, stats);
        if (NotificationMessage.TryParse(body, out var notification, out var nerr, bodyOffset))
        {
            _ = notification.CodeName;
            _ = notification.SubcodeName;
            _ = notification.ShutdownCommunication;
            _ = NotificationCodes.Describe(notification.Code, notification.Subcode);
        }
        else stats.Check(nerr, inputLength, "NotificationMessage.TryParse");
        if (!RouteRefreshMessage.TryParse(body, out _, out var rerr, bodyOffset)) stats.Check(rerr, inputLength, "RouteRefreshMessage.TryParse");
    }

    public static void DecodeOpen(ReadOnlySpan<byte> body, int bodyOffset, int inputLength, DecodeStats stats)
    {
        if (!OpenMessage.TryParse(body, out var open, out var error, bodyOffset))
        {
            stats.Check(error, inputLength, "OpenMessage.TryParse");
            return;
        }
        var reader = open.ReadCapabilities();
        var builder = new OpenCapabilities.Builder();
        int guard = 0;
        while (reader.TryRead(out var capability, out error))
        {
            if (!stats.Guard(ref guard, open.OptionalParameters.Length, "CapabilityReader")) return;
            if (capability.Offset < 0 || capability.Offset + capability.Value.Length > inputLength)
                stats.Violation($"capability {capability.CodeValue} at {capability.Offset}+{capability.Value.Length} outside the input");
            builder.Add(capability);
        }
        stats.Check(error, inputLength, "CapabilityReader");
        if (open.TryGetCapabilities(out var caps, out error))
        {
            var negotiated = OpenCapabilities.Negotiate(caps, caps);
            _ = negotiated.MaxMessageLength;
            foreach (var _ in caps.AddPathReceive.Families()) { }
        }
        else stats.Check(error, inputLength, "OpenMessage.TryGetCapabilities");
    }

    /// <summary>Walks everything an UPDATE holds: attributes (strict and keep-malformed), every NLRI field, and each attribute's own reader.</summary>
    public static void ExerciseUpdate(in UpdateMessage update, int inputLength, DecodeStats stats)
    {
        if (update.NlriOffset + update.Nlri.Length > inputLength)
            stats.Violation($"UPDATE fields end at {update.NlriOffset + update.Nlri.Length}, past the {inputLength}-byte input");
        _ = update.IsEndOfRib;
        stats.Check(update.Validate(), inputLength, "UpdateMessage.Validate");

        var strict = update.ParseAttributes();
        stats.Check(strict.Error, inputLength, "PathAttributeSet");
        ExerciseAttributes(ref strict, update.Context, inputLength, stats);

        var kept = PathAttributeSet.Parse(update.PathAttributes, update.Context, update.AttributesOffset, hasNlri: !update.Nlri.IsEmpty,
            keepMalformed: true);
        stats.Check(kept.Error, inputLength, "PathAttributeSet(keepMalformed)");
        ExerciseAttributes(ref kept, update.Context, inputLength, stats);

        var attributes = update.ReadAttributes();
        int guard = 0;
        BgpError error;
        while (attributes.TryRead(out var attribute, out error))
        {
            if (!stats.Guard(ref guard, update.PathAttributes.Length, "PathAttributeReader")) break;
            if (attribute.Offset < 0 || attribute.ValueOffset + attribute.Value.Length > inputLength)
                stats.Violation($"attribute {attribute.TypeCode} at {attribute.Offset} runs outside the input");
            _ = attribute.IsOptional | attribute.IsTransitive | attribute.IsPartial;
        }
        stats.Check(error, inputLength, "PathAttributeReader");

        WalkNlri(update.ReadWithdrawn(), inputLength, stats, "withdrawn");
        WalkNlri(update.ReadNlri(), inputLength, stats, "NLRI");
        if (strict.TryGetMpReach(out var reach))
        {
            WalkNlri(UpdateMessage.ReadMpReach(strict, reach, update.Context), inputLength, stats, "MP_REACH_NLRI");
            MpReachNlri.TryGetNextHop(reach.NextHop, out var global, out var linkLocal);
            _ = global.ToString();
            _ = linkLocal.Family;
            WalkAsEveryFamily(reach.Nlri, stats);
        }
        if (strict.TryGetMpUnreach(out var unreach))
        {
            WalkNlri(UpdateMessage.ReadMpUnreach(strict, unreach, update.Context), inputLength, stats, "MP_UNREACH_NLRI");
            WalkAsEveryFamily(unreach.Withdrawn, stats);
        }
        if (kept.TryGetMpReach(out var keptReach) && MpReachNlri.TryParseRibEntry(kept.MpReach, keptReach.Afi, keptReach.Safi, out var ribForm))
            MpReachNlri.TryGetNextHop(ribForm.NextHop, out _, out _);
    }

    /// <summary>Reads every attribute value the set exposes, as a consumer would.</summary>
    public static void ExerciseAttributes(ref PathAttributeSet set, in BgpDecodeContext context, int inputLength, DecodeStats stats)
    {
        if (set.TryGetOrigin(out var origin)) _ = PathAttributeSet.OriginName(origin);
        set.TryGetMultiExitDisc(out _);
        set.TryGetLocalPref(out _);
        if (set.TryGetNextHop(out var nextHop)) _ = nextHop.ToString();
        set.TryGetAggregator(out _);
        set.TryGetAs4Aggregator(out _);
        set.TryGetOnlyToCustomer(out _);
        set.TryGetAigp(out _);
        WalkAsPath(set.AsPath, context.AsSize, stats);
        WalkAsPath(set.As4Path, 4, stats);
        for (int i = 0; i < AttributeValues.CommunityCount(set.Communities); i++) AttributeValues.Community(set.Communities, i);
        for (int i = 0; i < AttributeValues.LargeCommunityCount(set.LargeCommunities); i++) AttributeValues.LargeCommunity(set.LargeCommunities, i);
        for (int i = 0; i < AttributeValues.ExtendedCommunityCount(set.ExtendedCommunities); i++) AttributeValues.ExtendedCommunity(set.ExtendedCommunities, i);
        int seen = 0;
        for (int t = 0; t < 256; t++) if (set.Has((byte)t)) seen++;
        if (seen > set.Count) stats.Violation($"PathAttributeSet marks {seen} types present but saw {set.Count} attributes");
        if (set.MpReach.Length > 0 && (set.MpReachOffset < 0 || set.MpReachOffset + set.MpReach.Length > inputLength))
            stats.Violation($"MP_REACH_NLRI offset {set.MpReachOffset} outside the input");
    }

    private static void WalkAsPath(ReadOnlySpan<byte> path, int asSize, DecodeStats stats)
    {
        if (path.IsEmpty) return;
        AsPathReader.Validate(path, asSize, out _);
        _ = AsPathReader.PathLength(path, asSize);
        var reader = new AsPathReader(path, asSize);
        int guard = 0;
        while (reader.TryRead(out var segment))
        {
            if (!stats.Guard(ref guard, path.Length, "AsPathReader")) return;
            for (int i = 0; i < segment.Count; i++) _ = segment[i];
        }
    }

    public static void WalkNlri(NlriReader reader, int inputLength, DecodeStats stats, string where)
    {
        Span<byte> text = stackalloc byte[IpText.MaxPrefixLength];
        int guard = 0;
        BgpError error;
        while (reader.TryRead(out var nlri, out error))
        {
            if (!stats.Guard(ref guard, inputLength, where)) return;
            if (nlri.Offset < 0 || nlri.Offset >= inputLength) stats.Violation($"{where}: entry offset {nlri.Offset} outside the input");
            if (nlri.Kind == NlriKind.Prefix)
            {
                IpText.FormatPrefix(nlri.Prefix, text);
                IpText.FormatPrefix(nlri.Prefix, text, Ipv6TextStyle.Bgpdump);
                _ = nlri.Prefix.Masked();
            }
        }
        stats.Check(error, inputLength, where);
    }

    private static void WalkAsEveryFamily(ReadOnlySpan<byte> nlri, DecodeStats stats)
    {
        if (nlri.IsEmpty) return;
        foreach (var (afi, safi) in Families)
        {
            WalkNlri(new NlriReader(nlri, afi, safi, addPath: false), nlri.Length, stats, $"NlriReader({afi},{safi})");
            WalkNlri(new NlriReader(nlri, afi, safi, addPath: true), nlri.Length, stats, $"NlriReader({afi},{safi},add-path)");
        }
    }

    /// <summary>
    /// Frames a byte stream three ways — one span, 1-byte segments, random segments — and checks that
    /// all three give the same messages and the same final outcome (RFC 4271 §6.1 header checks).
    /// </summary>
    public static void FrameStream(ReadOnlyMemory<byte> stream, ulong seed, DecodeStats stats, int maxLength = BgpConstants.MaxExtendedMessageLength)
    {
        stats.Framings++;
        var whole = Frame(new ReadOnlySequence<byte>(stream), maxLength, stats);
        var bytewise = Frame(SequenceBuilder.Chunked(stream, 1), maxLength, stats);
        var random = Frame(SequenceBuilder.RandomlySplit(stream, seed), maxLength, stats);
        if (!whole.SequenceEqual(bytewise)) stats.Violation($"framing differs between one span and 1-byte segments: {Describe(whole)} vs {Describe(bytewise)}");
        if (!whole.SequenceEqual(random)) stats.Violation($"framing differs between one span and random segments: {Describe(whole)} vs {Describe(random)}");
    }

    public readonly record struct FramedOutcome(FramingStatus Status, long Start, int Length, int Hash, BgpError Error);

    public static List<FramedOutcome> Frame(ReadOnlySequence<byte> buffer, int maxLength, DecodeStats stats)
    {
        var outcomes = new List<FramedOutcome>();
        long start = 0;
        long total = buffer.Length;
        int guard = 0;
        while (true)
        {
            if (!stats.Guard(ref guard, (int)Math.Min(total, int.MaxValue), "BgpMessageFramer")) break;
            var status = BgpMessageFramer.TryFrame(buffer, maxLength, stats.Scratch, out var message, out var consumed, out var error);
            if (status != FramingStatus.Message)
            {
                if (status == FramingStatus.Malformed) stats.Check(error, (int)buffer.Length, "BgpMessageFramer");
                if (status == FramingStatus.NeedMoreData && error.IsError) stats.Violation($"NeedMoreData with an error: {error}");
                outcomes.Add(new FramedOutcome(status, start, (int)buffer.Length, 0, error));
                break;
            }
            long used = buffer.Slice(0, consumed).Length;
            if (used != message.Length || used < BgpConstants.HeaderLength)
            {
                stats.Violation($"framer consumed {used} bytes for a {message.Length}-byte message");
                break;
            }
            var hash = new HashCode();
            hash.AddBytes(message);
            outcomes.Add(new FramedOutcome(status, start, message.Length, hash.ToHashCode(), default));
            start += used;
            buffer = buffer.Slice(consumed);
        }
        return outcomes;
    }

    private static string Describe(List<FramedOutcome> outcomes) =>
        string.Join(",", outcomes.Select(o => $"{o.Status}@{o.Start}+{o.Length}"));

    /// <summary>
    /// Where the length fields of a BGP message are (found by a walk written here, not by the code
    /// under test): header length, withdrawn and attribute lengths, every attribute length, OPEN
    /// parameter lengths, the first NLRI length octets. Steers <see cref="MutationKind.LengthField"/>.
    /// </summary>
    public static int LengthFieldHints(ReadOnlySpan<byte> message, Span<int> hints)
    {
        int n = 0;
        void Add(Span<int> h, int at) { if (n < h.Length) h[n++] = at; }
        Add(hints, 16);
        if (message.Length < 19) return n;
        byte type = message[18];
        if (type == 1 && message.Length >= 29)
        {
            Add(hints, 28);
            for (int p = 29; p + 1 < message.Length && n < hints.Length;)
            {
                Add(hints, p + 1);
                int plen = message[p + 1];
                for (int c = p + 2; c + 1 < p + 2 + plen && c + 1 < message.Length;)
                {
                    Add(hints, c + 1);
                    c += 2 + message[c + 1];
                }
                p += 2 + plen;
            }
            return n;
        }
        if (type != 2 || message.Length < 23) return n;
        Add(hints, 19);
        int withdrawn = BinaryPrimitives.ReadUInt16BigEndian(message[19..]);
        int attrLenAt = 21 + withdrawn;
        if (withdrawn > 0) Add(hints, 21);
        if (attrLenAt + 2 > message.Length) return n;
        Add(hints, attrLenAt);
        int attrEnd = Math.Min(message.Length, attrLenAt + 2 + BinaryPrimitives.ReadUInt16BigEndian(message[attrLenAt..]));
        for (int p = attrLenAt + 2; p + 3 <= attrEnd && n < hints.Length;)
        {
            bool extended = (message[p] & 0x10) != 0;
            Add(hints, p + 2);
            int len = extended ? (p + 4 <= attrEnd ? BinaryPrimitives.ReadUInt16BigEndian(message[(p + 2)..]) : 0) : message[p + 2];
            int valueAt = p + (extended ? 4 : 3);
            byte code = message[p + 1];
            // Inside MP_REACH: next hop length; inside AS_PATH: the first segment's count.
            if (code == 14 && valueAt + 3 < attrEnd) Add(hints, valueAt + 3);
            if (code is 2 or 17 && valueAt + 1 < attrEnd) Add(hints, valueAt + 1);
            p = valueAt + len;
        }
        if (attrEnd < message.Length) Add(hints, attrEnd);
        return n;
    }
}
