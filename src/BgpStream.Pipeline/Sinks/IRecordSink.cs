using BgpStream.Session;

namespace BgpStream.Pipeline;

/// <summary>
/// Where the collector's records end up. Calls come from one consumer, in record order; <see cref="Flush"/>
/// when the channel runs empty; <see cref="IDisposable.Dispose"/> finalises (publishes) what is open.
/// Write errors are <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.
/// </summary>
public interface IRecordSink : IDisposable
{
    void Write(in CollectorRecord record);
    /// <summary>A detection event, in order with the records (after the record that completed its evidence). Sinks without an event form ignore it.</summary>
    void WriteEvent(DetectionEvent detection) { }
    void Flush();
    /// <summary>One line for the log at shutdown: what was written where.</summary>
    string Summary { get; }
    /// <summary>Records accepted but never delivered, known after <see cref="IDisposable.Dispose"/> (a Kafka broker still gone at shutdown, no spool). Anything above 0 fails the run.</summary>
    long Lost => 0;
}

/// <summary>JSON lines on a stream (stdout).</summary>
public sealed class JsonLinesStreamSink(Stream output) : IRecordSink
{
    private readonly ElementJsonWriter _writer = new(output);

    public void Write(in CollectorRecord record) => _writer.Write(record);
    public void WriteEvent(DetectionEvent detection) => _writer.WriteEvent(detection);
    public void Flush() => _writer.Flush();
    public string Summary => $"JSON lines: {_writer.Elements} elements, {_writer.Events} session events, {_writer.Detections} detection events";
    public void Dispose() => _writer.Flush();
}
