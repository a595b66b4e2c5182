using BgpStream.Fuzzing;
using BgpStream.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace BgpStream.Bgp.Tests;

/// <summary>
/// Real messages from the corpus (captures, ExaBGP vectors, BGP4MP records), damaged by the shared
/// Mutator and decoded by every reader: no exception escapes, error offsets stay inside the input,
/// readers keep making progress, framing does not depend on segmentation.
/// </summary>
public class BgpMutationPropertyTests
{
    private static readonly IReadOnlyList<Sample> Messages = CorpusSamples.BgpMessages;
    private static readonly IReadOnlyList<Sample> Opens = Messages.Where(m => m.Bytes[18] == 1).ToList();
    private static readonly IReadOnlyList<Sample> MpUpdates = Messages.Where(m => m.Bytes[18] == 2 && HasMpAttribute(m.Bytes)).ToList();

    private static bool HasMpAttribute(byte[] message) =>
        UpdateMessage.TryParseMessage(message, BgpDecodeContext.Modern, out var u, out _)
        && (u.ParseAttributes().Has(PathAttributeType.MpReachNlri) || u.ParseAttributes().Has(PathAttributeType.MpUnreachNlri));

    private static void DecodeMutated(IReadOnlyList<Sample> samples, MutationCase c)
    {
        var sample = samples[c.Sample];
        Span<int> hints = stackalloc int[64];
        int n = BgpDecodeTargets.LengthFieldHints(sample.Bytes, hints);
        var mutated = Mutator.Mutate(sample.Bytes, c.Kind, c.Seed, hints[..n]);
        var stats = new DecodeStats { CurrentCase = c.ToString() };
        BgpDecodeTargets.DecodeMessage(mutated, stats);
        Properties.NoViolations(stats, c, sample.Source);
    }

    [Fact]
    public void Samples_cover_every_message_type_and_the_mp_families()
    {
        Assert.True(Messages.Count > 1500, $"{Messages.Count} samples");
        foreach (byte type in new byte[] { 1, 2, 3, 4, 5 }) Assert.Contains(Messages, m => m.Bytes[18] == type);
        Assert.True(Opens.Count >= 20);
        Assert.True(MpUpdates.Count >= 100);
    }

    [Fact]
    public void Mutated_messages_decode_with_every_reader() =>
        Properties.Check(4000, Messages.Count, c => DecodeMutated(Messages, c));

    [Fact]
    public void Mutated_open_capabilities_decode() =>
        Properties.Check(2000, Opens.Count, c => DecodeMutated(Opens, c));

    [Fact]
    public void Mutated_mp_reach_and_unreach_decode_as_every_family() =>
        Properties.Check(2000, MpUpdates.Count, c => DecodeMutated(MpUpdates, c));

    [Fact]
    public void Mutated_streams_frame_identically_in_every_segmentation() =>
        Properties.Check(1500, Messages.Count, c =>
        {
            // The damaged message followed by an intact one: the framer must find, or refuse, the boundary
            // the same way whether the bytes come in one span, byte by byte or in random pieces.
            var damaged = Mutator.Mutate(Messages[c.Sample].Bytes, c.Kind, c.Seed);
            var next = Messages[(c.Sample + 1) % Messages.Count].Bytes;
            var stats = new DecodeStats { CurrentCase = c.ToString() };
            BgpDecodeTargets.FrameStream(Wire.Concat(damaged, next), c.Seed, stats);
            Properties.NoViolations(stats, c, Messages[c.Sample].Source);
        });

    [Fact]
    public void Mutated_attribute_fields_index_in_update_and_rib_modes() =>
        Properties.Check(2000, MpUpdates.Count, c =>
        {
            // The Path Attributes field alone, damaged, as UPDATE attributes and as MRT RIB entry attributes.
            Assert.True(UpdateMessage.TryParseMessage(MpUpdates[c.Sample].Bytes, BgpDecodeContext.Modern, out var u, out _));
            var mutated = Mutator.Mutate(u.PathAttributes, c.Kind, c.Seed);
            var stats = new DecodeStats { CurrentCase = c.ToString() };
            foreach (bool rib in new[] { false, true })
                foreach (bool keep in new[] { false, true })
                    foreach (var ctx in BgpDecodeTargets.Contexts)
                    {
                        var set = PathAttributeSet.Parse(mutated, ctx, 0, hasNlri: true, ribEntry: rib, keepMalformed: keep);
                        stats.Check(set.Error, mutated.Length, "PathAttributeSet");
                        BgpDecodeTargets.ExerciseAttributes(ref set, ctx, mutated.Length, stats);
                        if (set.TryGetMpReach(out var reach))
                            BgpDecodeTargets.WalkNlri(new NlriReader(reach.Nlri, reach.Afi, reach.Safi, ctx.HasAddPath(reach.Afi, reach.Safi),
                                set.MpReachOffset + reach.NlriOffset), mutated.Length, stats, "MP_REACH_NLRI");
                    }
            Properties.NoViolations(stats, c, MpUpdates[c.Sample].Source);
        });

    [Fact]
    public void Mutator_is_deterministic_and_bounded() =>
        Properties.Check(3000, Messages.Count, c =>
        {
            var input = Messages[c.Sample].Bytes;
            var a = Mutator.Mutate(input, c.Kind, c.Seed);
            var b = Mutator.Mutate(input, c.Kind, c.Seed);
            Assert.Equal(a, b);
            Assert.InRange(a.Length, 0, Mutator.MaxOutputLength(input.Length));
            if (c.Kind is MutationKind.BitFlip or MutationKind.ByteReplace or MutationKind.LengthField)
                Assert.Equal(input.Length, a.Length);
            if (c.Kind is MutationKind.Truncate) Assert.True(a.AsSpan().SequenceEqual(input.AsSpan(0, a.Length)));
        });

    [Fact]
    public void Checks_catch_what_they_are_for()
    {
        // The invariants are not tautologies: an error offset past the input, an error at the end of
        // the input of a kind that names a byte, and a reader that does not advance are all reported.
        var stats = new DecodeStats();
        stats.Check(new BgpError(BgpErrorKind.AttributeLengthError, ErrorAction.TreatAsWithdraw, 3, 5, 11), 10, "test");
        stats.Check(new BgpError(BgpErrorKind.InvalidOrigin, ErrorAction.TreatAsWithdraw, 3, 6, 10), 10, "test");
        stats.Check(new BgpError(BgpErrorKind.Truncated, ErrorAction.SessionReset, 1, 2, 10), 10, "test");
        Assert.Equal(2, stats.ViolationCount);
        int guard = 0;
        bool stopped = false;
        for (int i = 0; i < 100 && !stopped; i++) stopped = !stats.Guard(ref guard, 10, "loop");
        Assert.True(stopped);
        Assert.Equal(3, stats.ViolationCount);
        // And a property whose body fails is reported by the runner (it throws).
        Assert.ThrowsAny<Exception>(() => Properties.Check(50, 10, c => Assert.NotEqual(MutationKind.Havoc, c.Kind)));
    }
}
