using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Api.Infrastructure;
using TuningService.Api.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Webhooks;

/// <summary>List, retrieve and delete a project's webhook endpoints, and list one endpoint's delivery attempts.</summary>
public static class ReadWebhooks
{
    public static async Task<Results<Ok<ListResponse<WebhookEndpointObject>>, JsonHttpResult<ErrorResponse>>> List(
        string? after, int? limit, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit) is { } limitError) return limitError;
        var take = limit ?? Paging.DefaultLimit;
        var endpoints = db.WebhookEndpoints.AsNoTracking().Where(w => w.ProjectId == caller.ProjectId);
        if (after is not null)
        {
            var cursor = await endpoints.Where(w => w.Id == after).Select(w => new { w.CreatedAt, w.Id }).SingleOrDefaultAsync(ct);
            if (cursor is null) return ApiErrors.BadRequest($"No webhook endpoint '{after}' to page after.", "after", "invalid_cursor");
            endpoints = endpoints.Where(w => w.CreatedAt < cursor.CreatedAt || (w.CreatedAt == cursor.CreatedAt && string.Compare(w.Id, cursor.Id) < 0));
        }
        var page = await endpoints.OrderByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<WebhookEndpointObject>.Page(page, take, WebhookEndpointObject.From, w => w.Id));
    }

    public static async Task<Results<Ok<WebhookEndpointObject>, JsonHttpResult<ErrorResponse>>> Get(
        string id, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleOrDefaultAsync(w => w.Id == id && w.ProjectId == caller.ProjectId, ct);
        return endpoint is null ? ApiErrors.NotFound("webhook endpoint", id) : TypedResults.Ok(WebhookEndpointObject.From(endpoint));
    }

    /// <summary>Deletes the endpoint and its delivery log; retries still pending find it gone and stop.</summary>
    public static async Task<Results<Ok<WebhookEndpointDeleted>, JsonHttpResult<ErrorResponse>>> Delete(
        string id, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        var deleted = await db.WebhookEndpoints.Where(w => w.Id == id && w.ProjectId == caller.ProjectId).ExecuteDeleteAsync(ct);
        return deleted == 0 ? ApiErrors.NotFound("webhook endpoint", id) : TypedResults.Ok(new WebhookEndpointDeleted(id));
    }

    /// <summary>Every attempt, newest first; <c>after=whdel_N</c> pages to older ones.</summary>
    public static async Task<Results<Ok<ListResponse<WebhookDeliveryObject>>, JsonHttpResult<ErrorResponse>>> Deliveries(
        string id, string? after, int? limit, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (Paging.CheckLimit(limit) is { } limitError) return limitError;
        if (!await db.WebhookEndpoints.AnyAsync(w => w.Id == id && w.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("webhook endpoint", id);
        var take = limit ?? Paging.DefaultLimit;
        var deliveries = db.WebhookDeliveries.AsNoTracking().Where(d => d.EndpointId == id);
        if (after is not null)
        {
            if (!after.StartsWith("whdel_", StringComparison.Ordinal) || !long.TryParse(after["whdel_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var afterId))
                return ApiErrors.BadRequest($"'{after}' is not a delivery id (whdel_N).", "after", "invalid_cursor");
            deliveries = deliveries.Where(d => d.Id < afterId);
        }
        var page = await deliveries.OrderByDescending(d => d.Id).Take(take + 1).ToListAsync(ct);
        return TypedResults.Ok(ListResponse<WebhookDeliveryObject>.Page(page, take, WebhookDeliveryObject.From, d => d.Id));
    }
}
