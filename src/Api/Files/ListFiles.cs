using TuningService.Api.Infrastructure;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Files;

/// <summary><c>GET /v1/files</c>: the project's files, newest first by default, with OpenAI's <c>after</c>/<c>limit</c> cursor.</summary>
public static class ListFiles
{
    public const int MaxLimit = 10_000;

    /// <param name="Purpose">Only files with this purpose.</param>
    /// <param name="After">A file id: list the files after it in the chosen order.</param>
    /// <param name="Limit">1 to 10,000; default 10,000 (like OpenAI).</param>
    /// <param name="Order"><c>asc</c> or <c>desc</c> by creation time; default <c>desc</c>.</param>
    public sealed record Query(
        [property: FromQuery(Name = "purpose")] string? Purpose,
        [property: FromQuery(Name = "after")] string? After,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "order")] string? Order);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).InclusiveBetween(1, MaxLimit).WithName("limit");
            RuleFor(q => q.Order).Must(o => o is null or "asc" or "desc").WithName("order").WithMessage("'order' must be 'asc' or 'desc'.");
        }
    }

    /// <summary>List files.</summary>
    /// <response code="200">An OpenAI list of file objects.</response>
    /// <response code="400">An out-of-range <c>limit</c>, an unknown <c>order</c> or an unknown <c>after</c> id.</response>
    public static async Task<Results<Ok<ListResponse<FileObject>>, JsonHttpResult<ErrorResponse>>> Handle(
        [AsParameters] Query query, TuningDbContext db, CallerContext caller, CancellationToken ct)
    {
        var projectId = caller.ProjectId;
        var files = db.Files.AsNoTracking().Where(f => f.ProjectId == projectId);
        if (query.Purpose is not null) files = files.Where(f => f.Purpose == query.Purpose);
        Cursor? cursor = null;
        if (query.After is not null && (cursor = await files.FindCursorAsync(query.After, ct)) is null)
            return ApiErrors.BadRequest($"No file found with id '{query.After}'.", "after");
        return TypedResults.Ok(await files.PageByCreationAsync(cursor, query.Limit ?? MaxLimit, oldestFirst: query.Order == "asc", FileObject.From, f => f.Id, ct));
    }
}
