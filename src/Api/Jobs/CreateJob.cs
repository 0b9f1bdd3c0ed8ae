using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain;
using TuningService.Domain.Datasets;
using TuningService.Domain.Files;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;

namespace TuningService.Api.Jobs;

/// <summary>
/// <c>POST /v1/fine_tuning/jobs</c>: read the spec (type errors name their path), validate it, check it against stored
/// files and models, resolve it and check the model-aware rules (context length), store the resolved spec as a queued job in one transaction, then enqueue it. An
/// <c>Idempotency-Key</c> replays the job it first created (same body) or is refused (another body).
/// </summary>
public static class CreateJob
{
    public const string IdempotencyHeader = "Idempotency-Key";
    private const string IdempotencyIndex = "IX_training_jobs_project_id_idempotency_key";

    public static async Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, CallerContext caller, TuningDbContext db, ModelCatalog models, TrainingQueue queue,
        IOptions<JobsOptions> options, TimeProvider clock, CancellationToken ct)
    {
        var limits = options.Value;
        if (!request.HasJsonContentType())
            return ApiErrors.Error(StatusCodes.Status415UnsupportedMediaType, "Send the job as JSON with Content-Type: application/json.", "unsupported_media_type");
        var body = await ReadBodyAsync(request, limits.MaxRequestBytes, ct);
        if (body is null) return ApiErrors.Error(413, $"The request body exceeds {limits.MaxRequestBytes} bytes.", "request_too_large");

        var spec = JobSpecSerializer.TryParse(body, out var parseError);
        if (spec is null) return Invalid(parseError!);

        var projectId = caller.ProjectId;
        var key = request.Headers[IdempotencyHeader].ToString();
        key = string.IsNullOrWhiteSpace(key) ? null : key.Trim();
        if (key is { Length: > 255 }) return ApiErrors.BadRequest("Idempotency-Key is at most 255 characters.", IdempotencyHeader);
        var hash = key is null ? null : CanonicalHash(body);
        var now = clock.GetUtcNow();
        if (key is not null && await ReplayAsync(db, projectId, key, hash!, now - limits.IdempotencyWindow, ct) is { } replay) return replay;

        if (JobSpecValidation.Validate(spec) is [var first, ..]) return Invalid(first);

        var method = spec.Method?.Type ?? MethodTypes.Supervised;
        var model = await models.FindAsync(projectId, spec.Model!, ct);
        if (model is null)
            return ApiErrors.BadRequest($"Model '{spec.Model}' does not exist: use a base preset, a base checkpoint or a fine-tuned model of this project (GET /v1/models).", "model", "model_not_found");
        if (model.Directory is { } modelDirectory && CheckpointSupport.UnsupportedIn(modelDirectory) is { } unsupported)
            return ApiErrors.BadRequest($"Model '{model.Id}' cannot be fine-tuned here: {unsupported}", "model", "model_not_supported");
        var (training, fileError) = await CheckFileAsync(db, projectId, spec.TrainingFile!, method, "training_file", ct);
        if (fileError is not null) return fileError;
        if (spec.ValidationFile is not null
            && (await CheckFileAsync(db, projectId, spec.ValidationFile, method, "validation_file", ct)).Error is { } validationError)
            return validationError;
        if (spec.ReferenceFile is not null && await CheckReferenceFileAsync(db, projectId, spec.ReferenceFile, ct) is { } referenceError)
            return referenceError;
        if (method == MethodTypes.Ppo && await CheckRewardModelAsync(models, projectId, spec.Method!.Ppo!.Hyperparameters!.RewardModel!, ct) is { } rewardError)
            return rewardError;

        // Every absent field gets its documented default; then the rules that need the model (its context) on the values the job will run with.
        var contextLength = ModelContext.Of(model);
        var randomInit = ModelCatalog.FindPreset(model.Kind == BaseModelKinds.Preset ? model.Id : model.BaseModel ?? "") is not null;
        var resolved = JobSpecResolver.Resolve(spec, new SpecResolutionContext(Random.Shared.Next(), model.Architecture, training!.Examples, contextLength, randomInit));
        if (JobSpecValidation.ValidateForModel(resolved, contextLength, spec.Hyperparameters is null ? null : "hyperparameters") is [var modelError, ..])
            return Invalid(modelError);

        var active = await db.Jobs.CountAsync(j => j.ProjectId == projectId
            && (j.Status == JobStatus.ValidatingFiles || j.Status == JobStatus.Queued || j.Status == JobStatus.Running), ct);
        if (active >= limits.MaxActiveJobsPerProject)
            return ApiErrors.Error(StatusCodes.Status429TooManyRequests,
                $"This project already has {active} jobs queued or running (limit {limits.MaxActiveJobsPerProject}); wait for one to finish or cancel one.", "too_many_jobs");

        var job = new TrainingJob
        {
            Id = Ids.New("ftjob-"),
            ProjectId = projectId,
            Model = model.Id,
            TrainingFileId = training.Id,
            ValidationFileId = resolved.ValidationFile,
            Suffix = resolved.Suffix,
            Seed = resolved.Seed!.Value,
            MethodType = method,
            Spec = JobSpecSerializer.Serialize(resolved),
            Metadata = resolved.Metadata!,
            CreatedAt = now,
            IdempotencyKey = key,
            IdempotencyRequestHash = hash,
        };
        db.Jobs.Add(job);
        // Files were validated at upload; the cross-checks above are the validation, so the job is queued in the same transaction.
        db.JobEvents.Add(job.RecordEvent(now, $"Validating training file: {training.Id}"));
        if (MethodAdvice.Fit(method, training.Examples) is { Fit: MethodAdvice.Fits.Few } fit)
            db.JobEvents.Add(job.RecordEvent(now, $"Method advice: {fit.Advice}", "warn"));
        db.JobEvents.Add(job.MarkQueued(now));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (key is not null && ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: IdempotencyIndex })
        {
            // A concurrent request with the same key won the insert: answer with its job.
            db.ChangeTracker.Clear();
            return await ReplayAsync(db, projectId, key, hash!, DateTimeOffset.MinValue, ct) ?? throw new InvalidOperationException("Idempotency winner vanished.", ex);
        }

        // Only after commit: a worker must never receive an id it cannot read. A crash here is repaired by the DeliveryReconciler.
        job.HangfireJobId = await queue.EnqueueAsync(db, job.Id, null, CancellationToken.None);
        return TypedResults.Ok(JobObject.From(job));
    }

    private static JsonHttpResult<ErrorResponse> Invalid(SpecError error) =>
        ApiErrors.BadRequest(error.Message, error.Param.Length == 0 ? null : error.Param, error.Code);

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>The same job for the same key and body within the window; 409 for the same key with another body.</summary>
    private static async Task<Results<Ok<JobObject>, JsonHttpResult<ErrorResponse>>?> ReplayAsync(
        TuningDbContext db, string projectId, string key, string hash, DateTimeOffset notBefore, CancellationToken ct)
    {
        var existing = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.ProjectId == projectId && j.IdempotencyKey == key, ct);
        if (existing is null) return null;
        if (existing.CreatedAt < notBefore)
        {
            // Expired: release the key so this request may use it.
            await db.Jobs.Where(j => j.Id == existing.Id && j.IdempotencyKey == key)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.IdempotencyKey, (string?)null), ct);
            return null;
        }
        if (existing.IdempotencyRequestHash != hash)
            return ApiErrors.Error(StatusCodes.Status409Conflict,
                $"Idempotency-Key '{key}' was already used with a different request body (job {existing.Id}).", "idempotency_key_reused", IdempotencyHeader);
        return TypedResults.Ok(JobObject.From(existing));
    }

    private static async Task<(DatasetFile? File, JsonHttpResult<ErrorResponse>? Error)> CheckFileAsync(
        TuningDbContext db, string projectId, string fileId, string method, string param, CancellationToken ct)
    {
        var code = param == "training_file" ? "invalid_training_file" : "invalid_validation_file";
        var file = await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Id == fileId && f.ProjectId == projectId, ct);
        if (file is null) return (null, ApiErrors.BadRequest($"File '{fileId}' does not exist.", param, code));
        if (file.Status != DatasetFileStatus.Processed)
            return (null, ApiErrors.BadRequest($"File '{fileId}' is {file.Status}, not processed: {file.StatusDetails ?? "fix the file and upload it again"}.", param, code));
        var formats = MethodTypes.FormatsFor(method);
        if (file.Format is null || !formats.Contains(file.Format))
            return (null, ApiErrors.BadRequest(
                $"File '{fileId}' is in {file.Format ?? "an unknown"} format; a {method} job needs {string.Join(" or ", formats)}.", param, "format_mismatch"));
        return (file, null);
    }

    /// <summary>reference_file: a processed file of plain text lines (format text), whose loss measures forgetting.</summary>
    private static async Task<JsonHttpResult<ErrorResponse>?> CheckReferenceFileAsync(TuningDbContext db, string projectId, string fileId, CancellationToken ct)
    {
        const string param = "reference_file", code = "invalid_reference_file";
        var file = await db.Files.AsNoTracking().SingleOrDefaultAsync(f => f.Id == fileId && f.ProjectId == projectId, ct);
        if (file is null) return ApiErrors.BadRequest($"File '{fileId}' does not exist.", param, code);
        if (file.Status != DatasetFileStatus.Processed)
            return ApiErrors.BadRequest($"File '{fileId}' is {file.Status}, not processed: {file.StatusDetails ?? "fix the file and upload it again"}.", param, code);
        if (file.Format != Domain.Datasets.DatasetFormat.Text)
            return ApiErrors.BadRequest($"File '{fileId}' is in {file.Format ?? "an unknown"} format; reference_file needs text lines ({{\"text\": \"...\"}}).", param, "format_mismatch");
        return null;
    }

    private static async Task<JsonHttpResult<ErrorResponse>?> CheckRewardModelAsync(ModelCatalog models, string projectId, string id, CancellationToken ct)
    {
        const string param = "method.ppo.hyperparameters.reward_model";
        var record = await models.FindRecordAsync(projectId, id, ct);
        if (record is null) return ApiErrors.BadRequest($"Reward model '{id}' does not exist in this project; train one with a reward_model job.", param, "invalid_reward_model");
        if (record.Kind != ModelKinds.RewardModel)
            return ApiErrors.BadRequest($"Model '{id}' is a {record.Kind} model, not a reward model.", param, "invalid_reward_model");
        return null;
    }

    /// <summary>SHA-256 of the body with object keys sorted and whitespace dropped, so reformatting is still "the same body".</summary>
    public static string CanonicalHash(ReadOnlySpan<byte> body)
    {
        var node = JsonNode.Parse(body);
        var canonical = Canonical(node)?.ToJsonString() ?? "null";
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
    }

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Canonical).ToArray()),
        null => null,
        _ => JsonNode.Parse(node.ToJsonString()),
    };
}
