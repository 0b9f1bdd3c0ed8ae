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

    /// <summary>
    /// The base model a job's model descends from: the job's model, or the recorded base of the fine-tuned model or
    /// checkpoint it continues (<see cref="ModelCatalog.RecordedBase"/>).
    /// </summary>
    public static string RootBase(TrainingJob job, Func<string, string?> recordedBase) =>
        job.Model.StartsWith("ft:", StringComparison.Ordinal) && recordedBase(job.Model) is { } parent ? parent : job.Model;

    /// <summary>A model continued from a fine-tuned one keeps the root base in its name, so names do not nest.</summary>
    public static string ModelName(TrainingJob job, Func<string, string?> recordedBase) => ModelName(job, RootBase(job, recordedBase));

    private static string ModelName(TrainingJob job, string rootBase) =>
        string.IsNullOrEmpty(job.Suffix) ? $"ft:{rootBase}:{job.Id}" : $"ft:{rootBase}:{job.Suffix}:{job.Id}";

    public Task PublishAsync(JobLease lease, MethodResult result) => lease.ChangeAsync(async (db, job) =>
    {
        if (job.Status != JobStatus.Running || job.LeaseOwner != lease.Worker) return null;
        var rootBase = RootBase(job, id => ModelCatalog.RecordedBase(db, job.ProjectId, id));
        var name = ModelName(job, rootBase);
        if (!await db.Models.AnyAsync(m => m.Id == name))
            db.Models.Add(new ModelRecord
            {
                Id = name,
                ProjectId = job.ProjectId,
                Kind = result.ModelKind,
                BaseModel = rootBase,
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
            string Column(string[] metrics) => metrics.Select(Value).FirstOrDefault(v => v.Length > 0) ?? "";
            var step = m.GetProperty("step").GetInt32();
            byStep[step] = string.Join(',', MetricNames.ResultsCsvColumns.Select(c => Column(c.Metrics)).Prepend(step.ToString(CultureInfo.InvariantCulture)));
        }
        var text = new StringBuilder(string.Join(',', MetricNames.ResultsCsvColumns.Select(c => c.Column).Prepend("step"))).Append('\n');
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
        Status = DatasetFileStatus.Processed,
        Format = "csv",
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(csv)),
        ChunkCount = 1,
    };

}
