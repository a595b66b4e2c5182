using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BgpStream.Cli;

/// <summary>How log lines look: text for people, or one JSON object per line for a log shipper.</summary>
internal enum LogFormat { Text, Json }

/// <summary>
/// One line per log entry on stderr (stdout carries the data). Text: a UTC timestamp, the level and
/// the message. JSON: <c>timestamp</c>, <c>level</c>, <c>category</c>, <c>message</c>, the
/// template's named values, and <c>exception</c> when there is one.
/// </summary>
internal sealed class StderrLogger(LogLevel minimum, LogFormat format = LogFormat.Text, string category = "bgpstream") : ILogger
{
    /// <summary>Shared by every logger of the process so lines from different categories never interleave.</summary>
    private static readonly object Gate = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var level = logLevel switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "error",
            _ => "crit",
        };
        var now = DateTime.UtcNow;
        string line;
        if (format == LogFormat.Json) line = Json(now, level, state, formatter(state, exception), exception);
        else
        {
            line = $"{now:yyyy-MM-ddTHH:mm:ss.fffZ} {level}: {formatter(state, exception)}";
            if (exception is not null) line += $" ({exception.GetType().Name}: {exception.Message})";
        }
        lock (Gate) Console.Error.WriteLine(line);
    }

    private string Json<TState>(DateTime now, string level, TState state, string message, Exception? exception)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", now.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"));
            json.WriteString("level", level);
            json.WriteString("category", category);
            json.WriteString("message", message);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (name, value) in values)
                {
                    // The template itself; the message already carries it filled in.
                    if (name == "{OriginalFormat}" || name is "timestamp" or "level" or "category" or "message" or "exception") continue;
                    switch (value)
                    {
                        case null: json.WriteNull(name); break;
                        case bool b: json.WriteBoolean(name, b); break;
                        case double d when !double.IsFinite(d): json.WriteString(name, d.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
                        case float f when !float.IsFinite(f): json.WriteString(name, f.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
                        case int or long or uint or ulong or short or ushort or byte or double or float or decimal:
                            json.WritePropertyName(name);
                            json.WriteRawValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
                            break;
                        default: json.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
                    }
                }
            }
            if (exception is not null) json.WriteString("exception", $"{exception.GetType().Name}: {exception.Message}");
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>Hands the host's categories (Kestrel, hosting) our stderr format.</summary>
internal sealed class StderrLoggerProvider(LogLevel minimum, LogFormat format) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(minimum, format, categoryName);

    public void Dispose()
    {
    }
}
