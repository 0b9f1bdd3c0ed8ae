using System.Diagnostics;

namespace TuningService.Testing;

/// <summary>
/// Lets a test wait until the server has finished handling one request, even when the client gave up on it
/// (a dropped upload): the request carries a W3C <c>traceparent</c> with a trace id of its own, and ASP.NET Core's
/// hosting activity for that trace id stops only after the whole pipeline, rollback included, has returned.
/// </summary>
public sealed class ServerRequestCompletion : IDisposable
{
    private readonly ActivityTraceId _traceId = ActivityTraceId.CreateRandom();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ActivityListener _listener;

    public ServerRequestCompletion()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == _traceId) _completed.TrySetResult();
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The header value that ties a request to this watcher.</summary>
    public string TraceParent => $"00-{_traceId}-{ActivitySpanId.CreateRandom()}-01";

    /// <summary>Completes when the server's handling of the request has ended; fails after <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout) => _completed.Task.WaitAsync(timeout);

    public void Dispose() => _listener.Dispose();
}
