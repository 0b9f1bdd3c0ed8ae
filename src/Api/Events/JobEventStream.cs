using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Api.Jobs;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Events;

/// <summary>
/// Writes a job's events after <see cref="AfterId"/> as Server-Sent Events (<c>id: ftevent-N</c>, <c>data:</c> the event
/// object), then each new one as it is committed, whichever process wrote it: a <c>job_events</c> notification wakes
/// the stream, which reads what is new from PostgreSQL. After <see cref="EventStreamOptions.HeartbeatInterval"/> without
/// an event it sends a <c>: keep-alive</c> comment (and reads again, in case a notification was lost). Once the job is
/// succeeded, failed or cancelled and every event is sent, it sends <c>event: done</c> with the status and ends.
/// </summary>
public sealed class JobEventStream(string jobId, long afterId) : IResult, IEndpointMetadataProvider
{
    public string JobId { get; } = jobId;
    public long AfterId { get; } = afterId;

    public async Task ExecuteAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<EventStreamOptions>>().Value;
        var json = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var db = services.GetRequiredService<TuningDbContext>();
        var ct = context.RequestAborted;

        using var notified = services.GetRequiredService<DatabaseNotifications>().Subscribe(DatabaseNotifications.JobEvents, JobId);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.FlushAsync(ct);

        var cursor = AfterId;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Status first: the event of a terminal transition commits with it, so the read below includes it.
                var status = await db.Jobs.AsNoTracking().Where(j => j.Id == JobId).Select(j => j.Status).SingleAsync(ct);
                var events = await db.JobEvents.AsNoTracking()
                    .Where(e => e.JobId == JobId && e.Id > cursor).OrderBy(e => e.Id).Take(options.BatchSize).ToListAsync(ct);
                foreach (var e in events)
                {
                    await WriteAsync(response, $"id: {e.PublicId}\ndata: {JsonSerializer.Serialize(JobEventObject.From(e), json)}\n\n", ct);
                    cursor = e.Id;
                }
                if (events.Count > 0) await response.Body.FlushAsync(ct);
                if (events.Count == options.BatchSize) continue;
                if (JobStatus.IsTerminal(status))
                {
                    await WriteAsync(response, $"event: done\ndata: {JsonSerializer.Serialize(new { status }, json)}\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    return;
                }
                if (!await notified.WaitAsync(options.HeartbeatInterval, ct))
                {
                    await WriteAsync(response, ": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static Task WriteAsync(HttpResponse response, string text, CancellationToken ct) =>
        response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask();

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/event-stream"]));
}
