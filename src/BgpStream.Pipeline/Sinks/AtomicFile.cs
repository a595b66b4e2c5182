namespace BgpStream.Pipeline;

/// <summary>
/// A file written as <c>NAME.tmp</c> and published under <c>NAME</c> by a rename once complete and
/// flushed to disk, so readers never see a half-written file under its final name. When the name is
/// taken (the collector restarted within the same interval) both files are kept.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private readonly FileStream _file;
    private bool _done;

    public AtomicFile(string path)
    {
        Path = path;
        _file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
    }

    public string Path { get; }
    public Stream Stream => _file;

    /// <summary>Flushes to disk, closes and renames; returns the published path.</summary>
    public string Publish()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _done = true;
        var final = Path;
        if (File.Exists(final))
            final = $"{Path}.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        File.Move(Path + ".tmp", final);
        return final;
    }

    /// <summary>Closes and deletes the temporary file (a write failed).</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        try
        {
            _file.Dispose();
        }
        catch (IOException)
        {
            // Closing flushes the buffer, which fails again on a full disk; the file is abandoned anyway.
        }
        finally
        {
            File.Delete(Path + ".tmp");
        }
    }
}

/// <summary>Fixed intervals of record time (RIS/RouteViews style), and the file names they give.</summary>
internal readonly struct Rotation(TimeSpan interval)
{
    private readonly long _micros = (long)interval.TotalMicroseconds;

    public static void Check(TimeSpan interval)
    {
        if (interval < TimeSpan.FromMinutes(1)) throw new ArgumentException("the rotation interval is at least a minute", nameof(interval));
    }

    /// <summary>The start of the interval that holds <paramref name="timestampMicros"/>.</summary>
    public long Start(long timestampMicros) => timestampMicros - timestampMicros % _micros;

    /// <summary><c>KIND.YYYYMMDD.HHMM</c> and the extension, e.g. <c>updates.20260222.1530.gz</c>.</summary>
    public static string FileName(string kind, long startMicros, string extension) =>
        kind + "." + DateTimeOffset.FromUnixTimeMilliseconds(startMicros / 1000).UtcDateTime
            .ToString("yyyyMMdd.HHmm", System.Globalization.CultureInfo.InvariantCulture) + extension;
}
