using BgpStream.Fuzzing;
using BgpStream.TestSupport;

namespace BgpStream.Mrt.Tests;

/// <summary>
/// Real MRT records and small whole files from the corpus, damaged by the shared Mutator: every
/// record decoder and the stream reader finish without an exception, report offsets inside the
/// input, keep making progress, and never lose or alter records that precede the damage.
/// </summary>
public class MrtMutationPropertyTests
{
    private static readonly IReadOnlyList<MrtRawRecord> Records = CorpusSamples.MrtRecords;
    private static readonly IReadOnlyList<Sample> Streams = CorpusSamples.MrtStreams;

    [Fact]
    public void Samples_cover_every_record_family()
    {
        var names = Records.Select(r => MrtCorpusWalk.RecordName(r.Type, r.Subtype)).ToHashSet();
        foreach (var name in new[]
        {
            "BGP4MP/MESSAGE", "BGP4MP/MESSAGE_AS4", "BGP4MP/STATE_CHANGE", "BGP4MP/STATE_CHANGE_AS4", "BGP4MP_ET/MESSAGE_AS4",
            "BGP4MP/MESSAGE_AS4_ADDPATH", "BGP4MP/ENTRY(deprecated)", "TABLE_DUMP/AFI_IPv4", "TABLE_DUMP/AFI_IPv6",
            "TABLE_DUMP_V2/PEER_INDEX_TABLE", "TABLE_DUMP_V2/RIB_IPV4_UNICAST", "TABLE_DUMP_V2/RIB_IPV6_UNICAST",
            "TABLE_DUMP_V2/RIB_IPV4_UNICAST_ADDPATH", "TABLE_DUMP_V2/RIB_GENERIC", "BGP(deprecated)/UPDATE",
        })
            Assert.Contains(name, names);
        Assert.Contains(Records, r => r.Bytes.Length > 65_535);
    }

    [Fact]
    public void Mutated_records_decode_with_every_record_decoder() =>
        Properties.Check(3000, Records.Count, c =>
        {
            var record = Records[c.Sample];
            // Hints: the MRT length (low half), then the record's own structure is left to chance.
            var mutated = Mutator.Mutate(record.Bytes, c.Kind, c.Seed, [10, 11, 14, 16, 18]);
            var stats = new DecodeStats { CurrentCase = c.ToString() };
            MrtDecodeTargets.DecodeRecordBytes(mutated, stats);
            Properties.NoViolations(stats, c, $"{record.Source} @{record.Offset}");
        });

    [Fact]
    public void Mutated_files_read_to_the_end() =>
        Properties.Check(800, Streams.Count, c =>
        {
            var sample = Streams[c.Sample];
            var mutated = Mutator.Mutate(sample.Bytes, c.Kind, c.Seed);
            var stats = new DecodeStats { CurrentCase = c.ToString() };
            MrtDecodeTargets.DecodeStream(mutated, stats);
            Properties.NoViolations(stats, c, sample.Source);
        });

    [Fact]
    public void Records_before_the_damage_are_delivered_unchanged() =>
        Properties.Check(800, Streams.Count, c =>
        {
            // Damage one record somewhere in the file; every record that ends before it must come out
            // at its offset with its bytes (a following damaged region may lengthen the last of them,
            // as an under-declared length, but never change or drop what was there).
            var sample = Streams[c.Sample];
            var original = MrtReaderTests.ReadAll(sample.Bytes);
            if (original.Records.Count < 2) return;
            var rng = new SplitMix64(c.Seed);
            var victim = original.Records[1 + rng.Next(original.Records.Count - 1)];
            var damaged = sample.Bytes[..(int)victim.Offset].Concat(Mutator.Mutate(sample.Bytes.AsSpan((int)victim.Offset), c.Kind, c.Seed)).ToArray();
            var after = MrtReaderTests.ReadAll(new NonSeekableStream(damaged, maxRead: 512));
            var intact = original.Records.TakeWhile(r => r.BodyOffset + r.BodyLength <= victim.Offset).ToList();
            Assert.True(after.Records.Count >= intact.Count, $"{c}: {after.Records.Count} records, {intact.Count} before the damage");
            for (int i = 0; i < intact.Count; i++)
            {
                var (was, now) = (intact[i], after.Records[i]);
                Assert.Equal((was.Offset, was.Type, was.Subtype, was.Timestamp, was.BodyHead), (now.Offset, now.Type, now.Subtype, now.Timestamp, now.BodyHead));
                Assert.True(now.BodyLength >= was.BodyLength, $"{c}: record {i} shrank");
            }
            Assert.All(after.Diagnostics, d => Assert.InRange(d.Offset, 0, damaged.Length));
        });
}
