using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain;
using TuningService.Domain.Files;
using TuningService.Domain.Jobs;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Ends a successful run in one transaction: the model registered as <c>ft:{base}:{suffix}:{job}</c>, the metrics
/// CSV stored as a result file (like OpenAI's <c>step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy</c>),
/// and the job moved to succeeded.
/// </summary>
public sealed class ModelPublisher
{
    public const string ResultsPurpose = "fine-tune-results";

    /// <summary>A model continued from a fine-tuned one keeps the root base in its name, so names do not nest.</summary>
    public static string ModelName(TrainingJob job, Func<string, ModelRecord?> findProduced)
    {
        // A checkpoint id (ft:{root}:…:ckpt-step-N) is no model row: its root is the second part of its name.
        var root = !job.Model.StartsWith("ft:", StringComparison.Ordinal) ? job.Model
            : findProduced(job.Model) is { } parent ? parent.BaseModel : job.Model.Split(':')[1];
        return string.IsNullOrEmpty(job.Suffix) ? $"ft:{root}:{job.Id}" : $"ft:{root}:{job.Suffix}:{job.Id}";
    }

    public Task PublishAsync(JobLease lease, MethodResult result) => lease.ChangeAsync(async (db, job) =>
    {
        if (job.Status != JobStatus.Running || job.LeaseOwner != lease.Worker) return null;
        var name = ModelName(job, id => db.Models.AsNoTracking().SingleOrDefault(m => m.Id == id && m.ProjectId == job.ProjectId));
        if (!await db.Models.AnyAsync(m => m.Id == name))
            db.Models.Add(new ModelRecord
            {
                Id = name,
                ProjectId = job.ProjectId,
                Kind = result.ModelKind,
                BaseModel = name.Split(':')[1],
                JobId = job.Id,
                ArtifactPath = result.ModelPath!,
                Architecture = result.Architecture,
            });

        var csv = await MetricsCsvAsync(db, job.Id);
        var file = ResultFile(job, csv);
        db.Files.Add(file);
        db.FileChunks.Add(new FileChunk { FileId = file.Id, Index = 0, Data = csv });
        db.JobEvents.Add(job.RecordEvent(DateTimeOffset.UtcNow, $"New fine-tuned model created: {name}"));
        return job.Succeed(DateTimeOffset.UtcNow, name, result.TrainedTokens, [file.Id]);
    });

    private static async Task<byte[]> MetricsCsvAsync(TuningDbContext db, string jobId)
    {
        var rows = await db.JobEvents.AsNoTracking()
            .Where(e => e.JobId == jobId && e.Type == EventTypes.Metrics)
            .OrderBy(e => e.Id)
            .Select(e => e.Data)
            .ToListAsync();
        var byStep = new SortedDictionary<int, string>();
        foreach (var data in rows)
        {
            if (data is null) continue;
            var m = data.RootElement;
            string Value(string name) => m.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number
                ? v.GetDouble().ToString("0.######", CultureInfo.InvariantCulture) : "";
            var step = m.GetProperty("step").GetInt32();
            byStep[step] = $"{step},{Value("train_loss")},{Value("train_accuracy")},{Value("valid_loss")},{Value("valid_mean_token_accuracy")}";
        }
        var text = new StringBuilder("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n");
        foreach (var line in byStep.Values) text.Append(line).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static DatasetFile ResultFile(TrainingJob job, byte[] csv) => new()
    {
        Id = Ids.New("file-"),
        ProjectId = job.ProjectId,
        Filename = $"step_metrics_{job.Id}.csv",
        Purpose = ResultsPurpose,
        Bytes = csv.Length,
        Status = "processed",
        Format = "csv",
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(csv)),
        ChunkCount = 1,
    };

}
