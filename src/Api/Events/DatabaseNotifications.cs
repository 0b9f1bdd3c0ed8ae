using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;

namespace TuningService.Api.Events;

/// <summary>
/// One PostgreSQL connection per Api process that LISTENs on the channels the triggers notify (<c>job_events</c>:
/// payload = job id; <c>webhook_events</c>) and wakes the subscribers of each channel and key. A notification is a hint
/// to re-read, never the data itself: after a (re)connect every subscriber is woken, so one lost while the connection was
/// down costs a re-read, not an event. The connection opens with the first subscription (an event stream, or the webhook
/// dispatcher), so an Api instance that needs neither holds none.
/// </summary>
public sealed class DatabaseNotifications(string connectionString, ILogger<DatabaseNotifications> logger) : BackgroundService
{
    public const string JobEvents = "job_events";
    public const string WebhookEvents = "webhook_events";

    private readonly ConcurrentDictionary<Subscription, byte> _subscriptions = new();
    private readonly TaskCompletionSource _firstSubscription = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Subscribe before reading, then wait: a notification between the read and the wait is not missed.</summary>
    public Subscription Subscribe(string channel, string? key = null)
    {
        var subscription = new Subscription(this, channel, key);
        _subscriptions.TryAdd(subscription, 0);
        _firstSubscription.TrySetResult();
        return subscription;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not pooled: a pooled connection is reset (UNLISTEN *) when it goes back to the pool.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 15 };
        try { await _firstSubscription.Task.WaitAsync(stoppingToken); }
        catch (OperationCanceledException) { return; }
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => Publish(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {JobEvents}; LISTEN {WebhookEvents};", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                delay = TimeSpan.FromSeconds(1);
                WakeAll();
                while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Listening for database notifications failed ({Message}); retrying in {Delay}", ex.Message, delay);
                WakeAll();
                try { await Task.Delay(delay, stoppingToken); }
                catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
    }

    private void Publish(string channel, string payload)
    {
        foreach (var subscription in _subscriptions.Keys)
            if (subscription.Channel == channel && (subscription.Key is null || subscription.Key == payload)) subscription.Wake();
    }

    private void WakeAll()
    {
        foreach (var subscription in _subscriptions.Keys) subscription.Wake();
    }

    /// <summary>A wake-up flag: any number of notifications before a wait count as one.</summary>
    public sealed class Subscription(DatabaseNotifications owner, string channel, string? key) : IDisposable
    {
        private readonly Channel<bool> _signal = System.Threading.Channels.Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        public string Channel { get; } = channel;
        public string? Key { get; } = key;

        internal void Wake() => _signal.Writer.TryWrite(true);

        /// <summary>True when notified, false when <paramref name="timeout"/> passed first.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timer.CancelAfter(timeout);
            try
            {
                await _signal.Reader.ReadAsync(timer.Token);
                return true;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return false;
            }
        }

        public void Dispose() => owner._subscriptions.TryRemove(this, out _);
    }
}
