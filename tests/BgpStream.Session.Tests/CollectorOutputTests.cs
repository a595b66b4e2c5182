using System.Buffers;
using System.Net;
using BgpStream.Bgp;
using BgpStream.Session;

namespace BgpStream.Session.Tests;

/// <summary>The hand-off never blocks a socket reader and never loses or reorders a record.</summary>
public class CollectorOutputTests
{
    private static readonly SessionInfo Session = new(IPEndPoint.Parse("192.0.2.2:1"), IPEndPoint.Parse("192.0.2.1:179"), PeerConfig.Parse("192.0.2.2"));

    private static CollectorRecord Record(int i)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(19);
        BgpMessageWriter.WriteKeepalive(buffer);
        return CollectorRecord.ForMessage(i, Session, buffer, 19, BgpDecodeContext.Modern);
    }

    [Fact]
    public async Task Full_channel_overflows_in_memory_and_drains_in_order()
    {
        var output = new CollectorOutput(capacity: 4);
        // Nobody reads: every write still returns at once.
        for (int i = 0; i < 1000; i++) output.Write(Record(i));
        Assert.Equal(1000, output.Written);
        Assert.Equal(996, output.Overflowed);
        Assert.Equal(1000, output.Lag);

        var complete = output.CompleteAsync();
        var seen = new List<long>();
        await foreach (var r in output.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token))
        {
            seen.Add(r.TimestampMicros);
            r.Release();
        }
        await complete;
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), seen);
        Assert.Equal(0, output.Lag);
    }

    [Fact]
    public async Task Concurrent_writers_keep_each_writers_order()
    {
        var output = new CollectorOutput(capacity: 16);
        var reader = Task.Run(async () =>
        {
            var seen = new List<long>();
            await foreach (var r in output.Reader.ReadAllAsync())
            {
                seen.Add(r.TimestampMicros);
                r.Release();
                if (seen.Count % 100 == 0) await Task.Delay(1); // a slow consumer
            }
            return seen;
        });
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++) output.Write(Record(w * 1_000_000 + i));
        })).ToArray();
        await Task.WhenAll(writers);
        await output.CompleteAsync();
        var all = await reader.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(8000, all.Count);
        for (int w = 0; w < 4; w++)
            Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long)(w * 1_000_000 + i)), all.Where(t => t / 1_000_000 == w));
    }
}
