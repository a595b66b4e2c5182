using System.Diagnostics;

namespace BgpStream.Cli;

/// <summary>
/// How far a replay has got: a bar redrawn in place on a terminal, a plain line now and then
/// otherwise (logs, pipes). Share read is the compressed bytes consumed of the files that have a
/// length (standard input has none); record time is the newest record handed to the sinks.
/// </summary>
internal sealed class ReplayProgress(TextWriter output, bool interactive, TimeSpan interval)
{
    private const int BarWidth = 24;
    private readonly Stopwatch _clock = new();
    private List<Stream> _inputs = [];
    private long[] _lengths = [];
    private long _total;
    private long _records;
    private long _lastTime;
    private TimeSpan _lastDraw;

    public static ReplayProgress ForStderr() => Console.IsErrorRedirected
        ? new ReplayProgress(Console.Error, interactive: false, TimeSpan.FromSeconds(10))
        : new ReplayProgress(Console.Error, interactive: true, TimeSpan.FromMilliseconds(200));

    public void Start(List<Stream> inputs)
    {
        _inputs = inputs;
        _lengths = inputs.Select(s => s.CanSeek ? s.Length : 0).ToArray();
        _total = _lengths.Sum();
        _clock.Start();
    }

    public void Record(long timestampMicros)
    {
        _records++;
        _lastTime = timestampMicros;
        if ((_records & 1023) != 0) return;
        var now = _clock.Elapsed;
        if (now - _lastDraw < interval) return;
        _lastDraw = now;
        Draw(final: false);
    }

    public void Finish()
    {
        _clock.Stop();
        Draw(final: true);
    }

    private void Draw(bool final)
    {
        double? share = _total > 0 ? Math.Min(1, Read() / (double)_total) : null;
        if (final) share = _total > 0 ? 1 : null;
        var elapsed = _clock.Elapsed.TotalSeconds;
        string rate = elapsed > 0 ? $"{_records / elapsed:N0}/s" : "";
        string when = _records == 0 ? "no records"
            : DateTimeOffset.UnixEpoch.AddTicks(_lastTime * 10).ToString("yyyy-MM-dd HH:mm:ss") + " UTC";
        if (interactive)
        {
            string bar = share is { } s ? $"{s * 100,3:F0}% [{new string('#', (int)(s * BarWidth)).PadRight(BarWidth, '-')}] " : "";
            output.Write($"\r{bar}{when}  {_records:N0} records  {rate}   ");
            if (final) output.WriteLine();
        }
        else
        {
            string read = share is { } s ? $"{s * 100:F0}% read, " : "";
            output.WriteLine($"bgpstream replay: {(final ? "done: " : "")}{read}{_records} records up to {when}, {rate} in {elapsed:F1} s");
        }
        output.Flush();
    }

    private long Read()
    {
        long sum = 0;
        for (int i = 0; i < _inputs.Count; i++)
        {
            try
            {
                if (_inputs[i].CanSeek) sum += _inputs[i].Position;
            }
            catch (ObjectDisposedException)
            {
                sum += _lengths[i]; // a finished file is closed; it was read whole
            }
        }
        return sum;
    }
}

/// <summary>Paces a replay against its records' own clock, scaled by a speed factor.</summary>
internal sealed class Pacer(double speed)
{
    private readonly Stopwatch _clock = new();
    private long _first = long.MinValue;

    /// <summary>How long to wait before handing over a record of this time; null when it is due.</summary>
    public TimeSpan? DelayFor(long timestampMicros)
    {
        if (_first == long.MinValue)
        {
            _first = timestampMicros;
            _clock.Start();
            return null;
        }
        double dueMicros = (timestampMicros - _first) / speed;
        double ahead = dueMicros - _clock.Elapsed.TotalMicroseconds;
        return ahead >= 1000 ? TimeSpan.FromMicroseconds(ahead) : null;
    }
}
