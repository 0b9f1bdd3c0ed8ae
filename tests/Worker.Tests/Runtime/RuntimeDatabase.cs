using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using TuningService.Domain;
using TuningService.Domain.Files;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;
using TuningService.Domain.Queue;
using TuningService.Testing;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>
/// A migrated database with Hangfire's schema, an artifact store, and the writes the API would make (a processed
/// file, a queued job, its Hangfire enqueue), so the worker runtime is tested on its own against real PostgreSQL.
/// </summary>
public sealed class RuntimeDatabase : IAsyncLifetime
{
    private TrainingQueue? _queue;

    public string ConnectionString { get; private set; } = "";
    public string ArtifactsRoot { get; } = Directory.CreateTempSubdirectory("tuning-runtime-").FullName;

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.Instance.CreateDatabaseAsync("runtime");
        await using var db = CreateDbContext();
        await DatabaseSetup.MigrateAsync(db);
        HangfireTestLogging.Unbind();
        var storage = TrainingQueueStorage.Create(ConnectionString);
        _queue = new TrainingQueue(new BackgroundJobClient(storage), NullLogger<TrainingQueue>.Instance);
    }

    public async Task DisposeAsync()
    {
        await PostgresServer.Instance.DropDatabaseAsync(ConnectionString);
        TempDirectory.Delete(ArtifactsRoot);
    }

    public TuningDbContext CreateDbContext() =>
        new(new DbContextOptionsBuilder<TuningDbContext>().UseNpgsql(ConnectionString).Options);

    public async Task<string> AddFileAsync(string format, IEnumerable<string> jsonLines)
    {
        var lines = jsonLines.ToList();
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        var file = new DatasetFile
        {
            Id = Ids.New("file-"), ProjectId = Project.DefaultProjectId, Filename = $"{format}.jsonl", Purpose = "fine-tune",
            Bytes = bytes.Length, Examples = lines.Count, Status = DatasetFileStatus.Processed, Format = format, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), ChunkCount = 1,
        };
        await using var db = CreateDbContext();
        db.Files.Add(file);
        db.FileChunks.Add(new FileChunk { FileId = file.Id, Index = 0, Data = bytes });
        await db.SaveChangesAsync();
        return file.Id;
    }

    /// <summary>
    /// Creates a queued job with the given method hyperparameters and enqueues it, as the API does: the request is parsed,
    /// validated and resolved by the Domain's own serializer, validator and <see cref="JobSpecResolver"/>, so the worker
    /// reads exactly the spec the API would store.
    /// </summary>
    public async Task<string> SubmitAsync(string method, string trainingFile, object hyperparameters, string? validationFile = null,
        string model = "tiny-gpt2", long seed = 7, string? referenceFile = null)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["model"] = model, ["training_file"] = trainingFile, ["validation_file"] = validationFile, ["reference_file"] = referenceFile, ["suffix"] = "test", ["seed"] = seed,
            ["method"] = new Dictionary<string, object> { ["type"] = method, [method] = new { hyperparameters } },
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
        var request = JobSpecSerializer.TryParse(body, out var parseError) ?? throw new ArgumentException($"{parseError}", nameof(hyperparameters));
        if (JobSpecValidation.Validate(request) is [var error, ..]) throw new ArgumentException($"The API would refuse this spec: {error}", nameof(hyperparameters));
        await using var db = CreateDbContext();
        var examples = (await db.Files.AsNoTracking().SingleAsync(f => f.Id == trainingFile)).Examples;
        var preset = ModelCatalog.FindPreset(model);
        // A model a job produced (the API reads the same from its registry): its architecture, context and preset lineage.
        var produced = preset is null ? await db.Models.AsNoTracking().SingleOrDefaultAsync(m => m.Id == model) : null;
        var architecture = preset?.Architecture ?? produced?.Architecture;
        var contextLength = preset?.ContextLength ?? (produced is null ? null : ModelContext.FromHfConfig(Path.Combine(ArtifactsRoot, produced.ArtifactPath)));
        var randomInit = preset is not null || ModelCatalog.FindPreset(produced?.BaseModel ?? "") is not null;
        var resolved = JobSpecResolver.Resolve(request, new SpecResolutionContext(RandomSeed: 0, architecture, examples, contextLength, randomInit));
        if (contextLength is int context && JobSpecValidation.ValidateForModel(resolved, context) is [var modelError, ..])
            throw new ArgumentException($"The API would refuse this spec: {modelError}", nameof(hyperparameters));
        var job = new TrainingJob
        {
            Id = Ids.New("ftjob-"), ProjectId = Project.DefaultProjectId, Model = model, TrainingFileId = trainingFile,
            ValidationFileId = validationFile, MethodType = method, Spec = JobSpecSerializer.Serialize(resolved), Seed = resolved.Seed!.Value,
            Suffix = resolved.Suffix,
        };
        db.Jobs.Add(job);
        db.JobEvents.Add(job.MarkQueued(DateTimeOffset.UtcNow));
        await db.SaveChangesAsync();
        Assert.NotNull(await EnqueueAsync(job.Id));
        return job.Id;
    }

    /// <summary>
    /// Delivers a committed job through the service's own queue, as the API does after create and resume. Null when a
    /// running worker's reconciler delivered it first (a resumed job whose old delivery has ended is one it looks for).
    /// </summary>
    public async Task<string?> EnqueueAsync(string jobId)
    {
        await using var db = CreateDbContext();
        var delivery = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.HangfireJobId).SingleAsync();
        return await _queue!.EnqueueAsync(db, jobId, delivery, CancellationToken.None);
    }

    public async Task<TrainingJob> JobAsync(string jobId)
    {
        await using var db = CreateDbContext();
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
    }

    public async Task<List<JobEvent>> EventsAsync(string jobId)
    {
        await using var db = CreateDbContext();
        return await db.JobEvents.AsNoTracking().Where(e => e.JobId == jobId).OrderBy(e => e.Id).ToListAsync();
    }

    public async Task<List<JobCheckpoint>> CheckpointsAsync(string jobId)
    {
        await using var db = CreateDbContext();
        return await db.Checkpoints.AsNoTracking().Where(c => c.JobId == jobId).OrderBy(c => c.Step).ToListAsync();
    }

    /// <summary>Polls until the job satisfies <paramref name="done"/>; fails with the job's events if it does not in time.</summary>
    public async Task<TrainingJob> WaitForAsync(string jobId, Func<TrainingJob, bool> done, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await JobAsync(jobId);
            if (done(job)) return job;
            if (DateTime.UtcNow > deadline)
            {
                var events = string.Join("\n", (await EventsAsync(jobId)).Select(e => $"  {e.Type} {e.Message}"));
                throw new TimeoutException($"Job {jobId} is {job.Status} at step {job.Step}/{job.TotalSteps} after {timeout}.\nEvents:\n{events}\n{diagnostics?.Invoke()}");
            }
            await Task.Delay(200);
        }
    }
}
