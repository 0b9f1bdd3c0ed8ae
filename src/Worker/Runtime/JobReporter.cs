using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>Appends a job's events and keeps its progress fields current. Writes are small and synchronous at log steps.</summary>
public sealed class JobReporter(IDbContextFactory<TuningDbContext> dbFactory, JobLease lease, ILogger logger)
{
    private DateTimeOffset? _firstStepAt;
    private int _firstStep;

    public void Info(string message, object? data = null) => Append("info", EventTypes.Message, message, data);

    public void Warn(string message, object? data = null) => Append("warn", EventTypes.Message, message, data);

    /// <summary>
    /// A <c>metrics</c> event (OpenAI's shape: step, total_steps, train_loss, valid_loss, ...) plus the job's
    /// progress, latest metrics and estimated finish (from the step rate since this worker's first report).
    /// </summary>
    public void Metrics(int step, int totalSteps, double epoch, IReadOnlyDictionary<string, double?> values)
    {
        var now = DateTimeOffset.UtcNow;
        if (_firstStepAt is null) (_firstStepAt, _firstStep) = (now, step);
        var data = new JsonObject { ["step"] = step, ["total_steps"] = totalSteps, ["epoch"] = Math.Round(epoch, 4) };
        foreach (var (name, value) in values)
            if (value is double v && double.IsFinite(v)) data[name] = Math.Round(v, 6);
        var json = data.ToJsonString();

        DateTimeOffset? eta = null;
        if (step > _firstStep)
        {
            var perStep = (now - _firstStepAt.Value) / (step - _firstStep);
            eta = now + perStep * (totalSteps - step);
        }
        Append("info", EventTypes.Metrics, $"Step {step}/{totalSteps}: training loss={values.GetValueOrDefault(MetricNames.TrainLoss):0.####}", JsonDocument.Parse(json));
        lease.UpdateProgressAsync(step, totalSteps, epoch, json, eta, CancellationToken.None).GetAwaiter().GetResult();
    }

    private void Append(string level, string type, string message, object? data)
    {
        logger.LogInformation("[{JobId}] {Message}", lease.JobId, message);
        using var db = dbFactory.CreateDbContext();
        db.JobEvents.Add(new JobEvent
        {
            JobId = lease.JobId,
            Level = level,
            Type = type,
            Message = message,
            Data = data switch
            {
                null => null,
                JsonDocument doc => doc,
                _ => JsonSerializer.SerializeToDocument(data, JsonOptions),
            },
        });
        db.SaveChanges();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
