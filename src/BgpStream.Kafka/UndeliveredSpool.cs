using System.Buffers.Binary;
using System.Text;

namespace BgpStream.Kafka;

/// <summary>A Kafka message the broker has not acknowledged: where it goes and what it is.</summary>
public readonly record struct SpooledMessage(string Topic, byte[]? Key, byte[] Value);

/// <summary>
/// Undelivered messages kept on disk until the next start (docs/kafka.md). A file
/// <c>kafka-undelivered.YYYYMMDDTHHMMSSfffZ.bin</c> is the 8 bytes <c>BGPSKQ1\n</c> followed by
/// records, all integers big-endian:
/// <code>
///   u16 topic length | topic (UTF-8) | i32 key length (-1: no key) | key | u32 value length | value
/// </code>
/// It is written as <c>NAME.tmp</c>, flushed to disk and renamed when complete. A reader takes the
/// <c>.tmp</c> of a process that died too, up to its last whole record.
/// </summary>
public sealed class UndeliveredSpool : IDisposable
{
    public static ReadOnlySpan<byte> Magic => "BGPSKQ1\n"u8;
    public const string Pattern = "kafka-undelivered.*.bin";

    private readonly string _path;
    private readonly FileStream _file;
    private readonly byte[] _header = new byte[10];
    private bool _done;

    private UndeliveredSpool(string path)
    {
        _path = path;
        _file = new FileStream(path + ".tmp", FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        _file.Write(Magic);
    }

    /// <summary>A new spool file in <paramref name="directory"/> (created when missing).</summary>
    public static UndeliveredSpool Create(string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, $"kafka-undelivered.{DateTime.UtcNow:yyyyMMdd'T'HHmmssfff'Z'}");
        var path = stem + ".bin";
        for (int i = 1; File.Exists(path) || File.Exists(path + ".tmp"); i++) path = $"{stem}-{i}.bin";
        return new UndeliveredSpool(path);
    }

    public string FilePath => _path;
    public long Count { get; private set; }

    public void Append(in SpooledMessage message)
    {
        int topicLength = Encoding.UTF8.GetByteCount(message.Topic);
        Span<byte> topic = topicLength <= 256 ? stackalloc byte[topicLength] : new byte[topicLength];
        Encoding.UTF8.GetBytes(message.Topic, topic);
        BinaryPrimitives.WriteUInt16BigEndian(_header, (ushort)topicLength);
        _file.Write(_header, 0, 2);
        _file.Write(topic);
        BinaryPrimitives.WriteInt32BigEndian(_header, message.Key?.Length ?? -1);
        _file.Write(_header, 0, 4);
        if (message.Key is not null) _file.Write(message.Key);
        BinaryPrimitives.WriteUInt32BigEndian(_header, (uint)message.Value.Length);
        _file.Write(_header, 0, 4);
        _file.Write(message.Value);
        Count++;
    }

    /// <summary>Flushes to disk and gives the file its final name; returns it.</summary>
    public string Publish()
    {
        _done = true;
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_path + ".tmp", _path);
        return _path;
    }

    /// <summary>Closes without publishing: the <c>.tmp</c> stays for the next start to read.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _file.Flush(flushToDisk: true);
        _file.Dispose();
    }

    /// <summary>The spool files of a directory, oldest first (published and left-over <c>.tmp</c>).</summary>
    public static List<string> Find(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var files = Directory.GetFiles(directory, Pattern).Concat(Directory.GetFiles(directory, Pattern + ".tmp")).ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>
    /// Reads a spool file. A file cut short (the writer died) yields its whole records and sets
    /// <paramref name="problem"/>; so does a file that is not a spool file (nothing is read).
    /// </summary>
    public static List<SpooledMessage> Read(string path, out string? problem)
    {
        problem = null;
        var messages = new List<SpooledMessage>();
        var data = File.ReadAllBytes(path).AsSpan();
        if (!data.StartsWith(Magic))
        {
            problem = "not a spool file (no BGPSKQ1 magic)";
            return messages;
        }
        int p = Magic.Length;
        while (p < data.Length)
        {
            int start = p;
            if (data.Length - p < 2) break;
            int topicLength = BinaryPrimitives.ReadUInt16BigEndian(data[p..]);
            p += 2;
            if (data.Length - p < topicLength + 4) { p = start; break; }
            var topic = Encoding.UTF8.GetString(data.Slice(p, topicLength));
            p += topicLength;
            int keyLength = BinaryPrimitives.ReadInt32BigEndian(data[p..]);
            p += 4;
            if (keyLength < -1 || data.Length - p < Math.Max(keyLength, 0) + 4) { p = start; break; }
            byte[]? key = keyLength < 0 ? null : data.Slice(p, keyLength).ToArray();
            p += Math.Max(keyLength, 0);
            uint valueLength = BinaryPrimitives.ReadUInt32BigEndian(data[p..]);
            p += 4;
            if (valueLength > (uint)(data.Length - p)) { p = start; break; }
            messages.Add(new SpooledMessage(topic, key, data.Slice(p, (int)valueLength).ToArray()));
            p += (int)valueLength;
        }
        if (p < data.Length) problem = $"cut short at byte {p} of {data.Length} (the writer stopped mid-record); the {messages.Count} whole records before it are read";
        return messages;
    }
}
