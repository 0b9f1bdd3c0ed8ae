// Injected services (db, caller, ct) are not API parameters, so only route parameters are documented.
#pragma warning disable CS1573
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Files;

/// <summary><c>DELETE /v1/files/{id}</c>: removes the record and its chunks, unless an active job still needs the file.</summary>
public static class DeleteFile
{
    private static readonly string[] ActiveStatuses = JobStatus.All.Where(JobStatus.IsActive).ToArray();

    /// <summary>Delete a file.</summary>
    /// <param name="id">The file id.</param>
    /// <response code="200">The file is gone.</response>
    /// <response code="404">No such file in the caller's project.</response>
    /// <response code="409">A validating, queued, running or paused job uses it (<c>file_in_use</c>).</response>
    public static async Task<Results<Ok<FileDeleted>, JsonHttpResult<ErrorResponse>>> Handle(
        string id, TuningDbContext db, CallerContext caller, CancellationToken ct)
    {
        var projectId = caller.ProjectId;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Lock the row so a concurrent delete of the same file waits for this one.
        var locked = await db.Database
            .SqlQuery<int>($"SELECT 1 AS \"Value\" FROM files WHERE id = {id} AND project_id = {projectId} FOR UPDATE")
            .ToListAsync(ct);
        if (locked.Count == 0) return ApiErrors.NotFound("file", id);
        var job = await db.Jobs.AsNoTracking()
            .Where(j => j.ProjectId == projectId && (j.TrainingFileId == id || j.ValidationFileId == id) && ActiveStatuses.Contains(j.Status))
            .Select(j => new { j.Id, j.Status })
            .FirstOrDefaultAsync(ct);
        if (job is not null)
            return ApiErrors.Conflict($"File '{id}' is used by job {job.Id}, which is {job.Status}. Cancel the job or wait for it to end, then delete.", "file_in_use");
        await db.Files.Where(f => f.Id == id && f.ProjectId == projectId).ExecuteDeleteAsync(ct); // chunks go by ON DELETE CASCADE
        await transaction.CommitAsync(ct);
        return TypedResults.Ok(new FileDeleted(id, "file", true));
    }
}
