using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Domain.Inference;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Inference;

/// <summary>
/// Announces this worker in <c>inference_workers</c> once its server listens, refreshes the heartbeat and the resident
/// model list every few seconds, and removes the row on a graceful stop (a crashed worker's row just goes stale).
/// </summary>
public sealed class InferenceRegistration(IServer server, IHostApplicationLifetime lifetime, IDbContextFactory<TuningDbContext> dbFactory,
    ModelResidency residency, IOptions<InferenceOptions> options, ILogger<InferenceRegistration> logger) : BackgroundService
{
    private readonly string id = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stoppingToken);
        var address = options.Value.AdvertisedAddress
            ?? server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The inference server has no address; set Inference:AdvertisedAddress.");
        // Bound to every interface (a container): advertise the host name, which peers on the network resolve.
        foreach (var any in new[] { "://0.0.0.0:", "://[::]:", "://+:", "://*:" })
            address = address.Replace(any, $"://{System.Net.Dns.GetHostName()}:");
        address = address.TrimEnd('/');
        logger.LogInformation("Inference worker {Id} serving at {Address}", id, address);
        var period = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(stoppingToken);
                var row = await db.InferenceWorkers.SingleOrDefaultAsync(w => w.Id == id, stoppingToken);
                if (row is null) db.InferenceWorkers.Add(row = new InferenceWorker { Id = id, Address = address });
                row.Address = address;
                row.ResidentModels = residency.ResidentIds().ToList();
                row.HeartbeatAt = DateTimeOffset.UtcNow;
                await db.SaveChangesAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Inference heartbeat failed: {Message}", e.Message);
            }
            try { await Task.Delay(period, stoppingToken); } catch (OperationCanceledException) { break; }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.InferenceWorkers.Where(w => w.Id == id).ExecuteDeleteAsync(cancellationToken);
        }
        catch (Exception e) { logger.LogWarning("Could not remove inference worker row {Id}: {Message}", id, e.Message); }
    }
}
