using Hangfire;
using Microsoft.AspNetCore.Mvc;
using TuningService.Api.Errors;
using TuningService.Api.Infrastructure;
using TuningService.Api.Validation;
using TuningService.Domain.Webhooks;

namespace TuningService.Api.Webhooks;

/// <summary>
/// Per-project webhook endpoints. Events come from the outbox (<see cref="WebhookDispatcher"/>) and are delivered by a
/// Hangfire server in this process that serves only the <c>webhooks</c> queue.
/// </summary>
public static class WebhooksApi
{
    public static void AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhooksOptions>().Bind(configuration.GetSection(WebhooksOptions.Section))
            .Validate(o => o.MaxAttempts > 0 && o.RetryBaseDelay > TimeSpan.Zero && o.Timeout > TimeSpan.Zero && o.DeliveryWorkers > 0
                && o.SchedulePollingInterval > TimeSpan.Zero && o.DispatchInterval > TimeSpan.Zero, "Webhooks options must be positive.")
            .ValidateOnStart();
        services.AddSingleton<WebhookTargets>();
        services.AddScoped<IWebhookSender, WebhookSender>();
        services.AddHttpClient(WebhookSender.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = sp.GetRequiredService<WebhookTargets>().ConnectAsync,
                AllowAutoRedirect = false,
                UseProxy = false,
            })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan); // each attempt has its own timeout

        var options = configuration.GetSection(WebhooksOptions.Section).Get<WebhooksOptions>() ?? new WebhooksOptions();
        if (!options.RunDeliveryServer) return;
        services.AddHostedService<WebhookDispatcher>();
        services.AddHangfireServer((sp, o) =>
        {
            // This host's container activates the senders (Hangfire's default activator is process-wide).
            o.Activator = new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>());
            o.Queues = [IWebhookSender.QueueName];
            o.WorkerCount = options.DeliveryWorkers;
            o.SchedulePollingInterval = options.SchedulePollingInterval;
            o.ServerName = $"api-webhooks:{Environment.MachineName}:{Environment.ProcessId}";
        });
    }

    public static void MapWebhooksApi(this RouteGroupBuilder v1)
    {
        var webhooks = v1.MapGroup("/webhooks").WithTags("Webhooks")
            .WithMetadata(
                new ProducesResponseTypeAttribute(typeof(ErrorResponse), StatusCodes.Status400BadRequest, "application/json"),
                new ProducesResponseTypeAttribute(typeof(ErrorResponse), StatusCodes.Status404NotFound, "application/json"));
        webhooks.MapPost("", CreateWebhook.Handle).WithName("CreateWebhookEndpoint")
            .WithSummary("Subscribe a URL to job events; the answer carries the whsec_ signing secret, shown only this once.")
            .Validated<CreateWebhookRequest>();
        webhooks.MapGet("", ReadWebhooks.List).WithName("ListWebhookEndpoints").WithSummary("This project's webhook endpoints, newest first.").Validated<PageQuery>();
        webhooks.MapGet("/{id}", ReadWebhooks.Get).WithName("RetrieveWebhookEndpoint").WithSummary("One webhook endpoint (without its secret).");
        webhooks.MapDelete("/{id}", ReadWebhooks.Delete).WithName("DeleteWebhookEndpoint").WithSummary("Delete a webhook endpoint and its delivery log.");
        webhooks.MapGet("/{id}/deliveries", ReadWebhooks.Deliveries).WithName("ListWebhookDeliveries")
            .WithSummary("Every delivery attempt to the endpoint, newest first: status code, error, attempt number, timestamps.")
            .Validated<PageQuery>();
    }
}
