namespace TuningService.Api.Webhooks;

/// <summary>Settings of webhook delivery, section <c>Webhooks</c>.</summary>
public sealed class WebhooksOptions
{
    public const string Section = "Webhooks";

    /// <summary>Allow targets on private, link-local and loopback addresses (off: such URLs are refused with 400).</summary>
    public bool AllowPrivateTargets { get; set; }
    /// <summary>Allow loopback targets only (127.0.0.0/8, ::1, localhost); <c>./run.sh</c> turns it on for local use.</summary>
    public bool AllowLoopbackTargets { get; set; }

    /// <summary>Attempts per event and endpoint, the first included; the delay doubles from <see cref="RetryBaseDelay"/>.</summary>
    public int MaxAttempts { get; set; } = 8;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);
    /// <summary>How long a receiver may take to answer one attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
    public int MaxEndpointsPerProject { get; set; } = 20;

    /// <summary>
    /// Run a Hangfire server for the <c>webhooks</c> queue in this Api process (the <c>training</c> queue stays with
    /// the workers). Turn it off in Api instances that should only serve HTTP; at least one must run it.
    /// </summary>
    public bool RunDeliveryServer { get; set; } = true;
    /// <summary>Concurrent deliveries; each Hangfire worker holds a database connection while it waits for work.</summary>
    public int DeliveryWorkers { get; set; } = 4;
    /// <summary>How often an idle delivery worker looks for new deliveries (one indexed query per worker).</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>How often Hangfire moves due retries to the queue (its scheduler poll).</summary>
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>The dispatcher reads the outbox on every notification and at least this often.</summary>
    public TimeSpan DispatchInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay before attempt <paramref name="attempt"/> + 1: base · 2^(attempt−1), capped.</summary>
    public TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromTicks(Math.Min(RetryMaxDelay.Ticks, RetryBaseDelay.Ticks * (1L << Math.Min(attempt - 1, 30))));
}
