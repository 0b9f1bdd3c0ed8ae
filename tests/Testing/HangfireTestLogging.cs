namespace TuningService.Testing;

/// <summary>
/// Hangfire's log provider is process-wide, and starting an in-process API host binds it to that host's LoggerFactory.
/// Test classes start and dispose many hosts in one process: a Hangfire type initialised after its host's factory was
/// disposed (GlobalJobFilters on the first enqueue, say) would throw ObjectDisposedException in its static constructor
/// and fail every later enqueue of the process. Tests therefore unbind it once a host has started.
/// </summary>
public static class HangfireTestLogging
{
    public static void Unbind() => Hangfire.Logging.LogProvider.SetCurrentLogProvider(new SilentLogProvider());

    private sealed class SilentLogProvider : Hangfire.Logging.ILogProvider
    {
        public Hangfire.Logging.ILog GetLogger(string name) => new Silent();

        private sealed class Silent : Hangfire.Logging.ILog
        {
            public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }
}
