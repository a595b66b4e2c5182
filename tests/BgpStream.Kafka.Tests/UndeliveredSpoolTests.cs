using System.Text;

namespace BgpStream.Kafka.Tests;

public sealed class UndeliveredSpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgpstream-spool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Messages_round_trip_and_a_file_cut_short_yields_its_whole_records()
    {
        var messages = new[]
        {
            new SpooledMessage("bgpstream.updates", "192.0.2.1"u8.ToArray(), "{\"type\":\"A\"}"u8.ToArray()),
            new SpooledMessage("bgpstream.events", null, new byte[70_000]),
            new SpooledMessage("bgpstream.sessions", "2001:db8::1"u8.ToArray(), []),
        };
        string path;
        using (var spool = UndeliveredSpool.Create(_dir))
        {
            foreach (var m in messages) spool.Append(m);
            path = spool.Publish();
        }
        Assert.Equal([path], UndeliveredSpool.Find(_dir));
        var back = UndeliveredSpool.Read(path, out var problem);
        Assert.Null(problem);
        Assert.Equal(messages.Length, back.Count);
        foreach (var (a, b) in messages.Zip(back))
        {
            Assert.Equal(a.Topic, b.Topic);
            Assert.Equal(a.Key, b.Key);
            Assert.Equal(a.Value, b.Value);
        }

        // A writer that died mid-record: its .tmp is found, and read up to the last whole record.
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        var tmp = Path.Combine(_dir, "kafka-undelivered.20250101T000000000Z.bin.tmp");
        File.WriteAllBytes(tmp, bytes.AsSpan(0, bytes.Length - 5).ToArray());
        Assert.Equal([tmp], UndeliveredSpool.Find(_dir));
        back = UndeliveredSpool.Read(tmp, out problem);
        Assert.NotNull(problem);
        Assert.Equal(2, back.Count);
        Assert.Equal(Encoding.UTF8.GetBytes("192.0.2.1"), back[0].Key);
    }
}
