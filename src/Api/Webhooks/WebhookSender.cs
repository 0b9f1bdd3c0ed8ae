using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StandardWebhooks;
using TuningService.Api.Observability;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Domain.Webhooks;

namespace TuningService.Api.Webhooks;

/// <summary>
/// One attempt to deliver one event to one endpoint, run by Hangfire on the <c>webhooks</c> queue. The body is signed per
/// Standard Webhooks (<c>webhook-id</c> = the event id, the same on every attempt so receivers can drop duplicates).
/// A 2xx answer is success; anything else is recorded and, while attempts remain, retried after an exponentially
/// growing delay. At least once: a run cut short (process killed) is delivered again by Hangfire, so a receiver may see
/// an event twice but never zero times while attempts remain.
/// </summary>
public sealed class WebhookSender(
    TuningDbContext db, IHttpClientFactory http, IBackgroundJobClient hangfire, IOptions<WebhooksOptions> options,
    IOptions<JsonOptions> json, TuningMetrics metrics, TimeProvider clock, ILogger<WebhookSender> logger) : IWebhookSender
{
    public const string HttpClientName = "webhooks";

    public async Task SendAsync(long eventId, string endpointId, int attempt, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(w => w.Id == endpointId, ct);
        var ev = await db.WebhookEvents.AsNoTracking().SingleOrDefaultAsync(e => e.Id == eventId, ct);
        if (endpoint is null || ev is null)
        {
            logger.LogInformation("Webhook event {EventId} or endpoint {EndpointId} no longer exists; nothing to deliver", eventId, endpointId);
            return;
        }
        if (await db.WebhookDeliveries.AnyAsync(d => d.EventId == eventId && d.EndpointId == endpointId && d.Succeeded, ct)) return;

        var body = JsonSerializer.Serialize(new WebhookPayload(ev.PublicId, ev.Type, ev.CreatedAt.ToUnixSeconds(), new WebhookPayloadData(ev.JobId)),
            json.Value.SerializerOptions);
        var started = clock.GetUtcNow();
        var (status, error) = await PostAsync(endpoint, ev.PublicId, body, started, ct);
        var succeeded = status is >= 200 and < 300;
        var o = options.Value;
        var retry = !succeeded && attempt < o.MaxAttempts;
        var finished = clock.GetUtcNow();
        DateTimeOffset? next = retry ? finished + o.RetryDelay(attempt) : null;

        if (retry)
            hangfire.Create(Job(eventId, endpointId, attempt + 1), new ScheduledState(next!.Value.UtcDateTime));
        db.WebhookDeliveries.Add(new WebhookDelivery
        {
            EndpointId = endpointId, EventId = eventId, EventType = ev.Type, Attempt = attempt, StartedAt = started, FinishedAt = finished,
            StatusCode = status, Succeeded = succeeded, Error = error, NextAttemptAt = next,
        });
        await db.SaveChangesAsync(CancellationToken.None);
        metrics.WebhookDelivered(ev.Type, succeeded ? "success" : retry ? "retrying" : "failed");
        if (!succeeded)
            logger.LogInformation("Webhook {EventId} to {EndpointId} attempt {Attempt} failed: {Error}", ev.PublicId, endpointId, attempt, error);
    }

    /// <summary>The Hangfire job for one attempt, on the <c>webhooks</c> queue (also when it leaves the scheduled state).</summary>
    public static Hangfire.Common.Job Job(long eventId, string endpointId, int attempt) =>
        Hangfire.Common.Job.FromExpression<IWebhookSender>(s => s.SendAsync(eventId, endpointId, attempt, CancellationToken.None), IWebhookSender.QueueName);

    private async Task<(int? Status, string? Error)> PostAsync(WebhookEndpoint endpoint, string messageId, string body, DateTimeOffset now, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", new StandardWebhook(endpoint.Secret).Sign(messageId, now, body));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            return (code, response.IsSuccessStatusCode ? null : $"The receiver answered {code} {response.ReasonPhrase}.");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"No answer within {options.Value.Timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message);
        }
    }
}
