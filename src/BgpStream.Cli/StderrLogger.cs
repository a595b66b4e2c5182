using Microsoft.Extensions.Logging;

namespace BgpStream.Cli;

/// <summary>One line per log entry on stderr (stdout carries the data), with a UTC timestamp and level.</summary>
internal sealed class StderrLogger(LogLevel minimum) : ILogger
{
    private readonly object _gate = new();

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
        var line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {level}: {formatter(state, exception)}";
        if (exception is not null) line += $" ({exception.GetType().Name}: {exception.Message})";
        lock (_gate) Console.Error.WriteLine(line);
    }
}
