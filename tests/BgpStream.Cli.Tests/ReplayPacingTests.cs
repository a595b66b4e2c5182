using System.Diagnostics;
using BgpStream.Cli;
using BgpStream.Pipeline;
using BgpStream.TestSupport;

namespace BgpStream.Cli.Tests;

/// <summary><c>replay --speed</c> and the progress report.</summary>
public class ReplayPacingTests
{
    private const string Updates2016 = "RIPE-NCC__bgpdump/test_data/updates.20160811.1600.gz";

    [Theory]
    [InlineData("realtime", 1.0)]
    [InlineData("x60", 60.0)]
    [InlineData("x0.5", 0.5)]
    [InlineData("10", 10.0)]
    public void Speed_parses(string text, double factor)
    {
        Assert.True(ReplayCommand.TryParseSpeed(text, out var parsed));
        Assert.Equal(factor, parsed);
    }

    [Theory]
    [InlineData("x0")]
    [InlineData("x-2")]
    [InlineData("fast")]
    [InlineData("xInfinity")]
    [InlineData("xNaN")]
    public void Bad_speeds_are_refused(string text) => Assert.False(ReplayCommand.TryParseSpeed(text, out _));

    [Fact]
    public void The_pacer_holds_records_until_their_scaled_time()
    {
        var pacer = new Pacer(speed: 2);
        Assert.Null(pacer.DelayFor(1_000_000_000));
        var wait = pacer.DelayFor(1_000_000_000 + 20_000_000); // 20 s of record time at x2
        Assert.NotNull(wait);
        Assert.InRange(wait.Value.TotalSeconds, 9.0, 10.0);
        Assert.Null(pacer.DelayFor(1_000_000_000)); // an older record is due at once
    }

    [Fact]
    public void A_paced_replay_takes_the_record_time_span_divided_by_the_speed_and_loses_nothing()
    {
        var path = Corpus.PathOf(Updates2016);
        var fast = Replay(path, null, out _);
        // The file spans about 15 minutes of records; x3000 makes that about 0.3 s, never less.
        var span = (fast.Last - fast.First) / 1e6;
        Assert.InRange(span, 60, 3600);
        var clock = Stopwatch.StartNew();
        var paced = Replay(path, 3000, out var progress);
        clock.Stop();
        Assert.True(clock.Elapsed.TotalSeconds >= span / 3000 * 0.95, $"{clock.Elapsed.TotalSeconds:F2} s for {span:F0} s of records at x3000");
        Assert.Equal(fast.Count, paced.Count);
        Assert.Matches(@"^bgpstream replay: done: 100% read, \d+ records up to 2016-08-11 \d\d:\d\d:\d\d UTC", progress);
    }

    private static (long Count, long First, long Last) Replay(string path, double? speed, out string progress)
    {
        var sink = new TimeSink();
        var report = new StringWriter();
        int exit = new ReplayRunner(TextWriter.Null)
        {
            Speed = speed,
            Progress = new ReplayProgress(report, interactive: false, TimeSpan.FromHours(1)),
        }.Run([path], [sink]);
        Assert.Equal(0, exit);
        progress = report.ToString();
        return (sink.Count, sink.First, sink.Last);
    }

    private sealed class TimeSink : IRecordSink
    {
        public long Count, First = long.MaxValue, Last;

        public void Write(in BgpStream.Session.CollectorRecord record)
        {
            Count++;
            First = Math.Min(First, record.TimestampMicros);
            Last = Math.Max(Last, record.TimestampMicros);
        }

        public void Flush() { }
        public string Summary => "";
        public void Dispose() { }
    }
}
