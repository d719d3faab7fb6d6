using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent;

/// <summary>For one-shot CLI commands: warnings and errors from shared code go to stderr as "warning: …" lines.</summary>
internal sealed class TextWriterLogger(TextWriter writer, LogLevel minimum = LogLevel.Warning) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (IsEnabled(logLevel))
        {
            writer.WriteLine($"{(logLevel >= LogLevel.Error ? "error" : logLevel == LogLevel.Warning ? "warning" : "info")}: {formatter(state, exception)}");
        }
    }
}
