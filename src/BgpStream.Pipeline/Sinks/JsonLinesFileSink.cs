using BgpStream.Session;

namespace BgpStream.Pipeline;

/// <summary>
/// JSON lines files: the <c>--stdout</c> stream (docs/element-schema.md), one file per interval of
/// record time (<c>updates.YYYYMMDD.HHMM.jsonl</c>, elements and session events in arrival order),
/// published by rename when the interval is over, like the MRT and Arrow files.
/// </summary>
public sealed class JsonLinesFileSink : IRecordSink
{
    private readonly string _directory;
    private readonly Rotation _rotation;
    private readonly List<string> _completed = [];
    private AtomicFile? _file;
    private BufferedStream? _buffer;
    private ElementJsonWriter? _writer;
    private long _intervalStart = long.MinValue;

    public JsonLinesFileSink(string directory, TimeSpan interval)
    {
        Rotation.Check(interval);
        Directory.CreateDirectory(directory);
        _directory = directory;
        _rotation = new Rotation(interval);
    }

    public IReadOnlyList<string> Completed => _completed;
    public string Summary => $"JSON-lines files: {Elements} elements, {Events} session events, {Detections} detection events in {_completed.Count} files";
    public long Elements { get; private set; }
    public long Events { get; private set; }

    public void Write(in CollectorRecord record) => WriterAt(record.TimestampMicros).Write(record);

    /// <summary>In the same files, in order with the records (as on stdout).</summary>
    public void WriteEvent(DetectionEvent detection)
    {
        WriterAt(detection.TimestampMicros).WriteEvent(detection);
        Detections++;
    }

    public long Detections { get; private set; }

    private ElementJsonWriter WriterAt(long timestampMicros)
    {
        // As for MRT files: never back to an earlier interval (connections merge in arrival order).
        long start = _rotation.Start(timestampMicros);
        if (start > _intervalStart)
        {
            Finish();
            _intervalStart = start;
            _file = new AtomicFile(Path.Combine(_directory, Rotation.FileName("updates", start, ".jsonl")));
            _buffer = new BufferedStream(_file.Stream, 1 << 16);
            _writer = new ElementJsonWriter(_buffer);
        }
        return _writer!;
    }

    public void Flush() => _buffer?.Flush();

    private void Finish()
    {
        if (_file is null) return;
        var file = _file;
        var buffer = _buffer!;
        Elements += _writer!.Elements;
        Events += _writer.Events;
        _file = null;
        _buffer = null;
        _writer = null;
        try
        {
            buffer.Flush();
            _completed.Add(file.Publish());
        }
        catch
        {
            file.Dispose(); // a write failed (disk full): no half file is left, under either name
            throw;
        }
    }

    public void Dispose() => Finish();
}
