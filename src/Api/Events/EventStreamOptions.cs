namespace TuningService.Api.Events;

/// <summary>Settings of <c>GET /v1/fine_tuning/jobs/{id}/events?stream=true</c>, section <c>EventStream</c>.</summary>
public sealed class EventStreamOptions
{
    public const string Section = "EventStream";

    /// <summary>A <c>: keep-alive</c> comment is sent after this long without an event, so proxies keep the stream open.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Events read per query; a backlog larger than this is sent in several reads.</summary>
    public int BatchSize { get; set; } = 500;
}
