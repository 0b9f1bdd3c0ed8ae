using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Api.Infrastructure;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Webhooks;

/// <summary>List, retrieve and delete a project's webhook endpoints, and list one endpoint's delivery attempts.</summary>
public static class ReadWebhooks
{
    public static async Task<Results<Ok<ListResponse<WebhookEndpointObject>>, JsonHttpResult<ErrorResponse>>> List(
        [AsParameters] PageQuery page, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        var endpoints = db.WebhookEndpoints.AsNoTracking().Where(w => w.ProjectId == caller.ProjectId);
        Cursor? cursor = null;
        if (page.After is not null && (cursor = await endpoints.FindCursorAsync(page.After, ct)) is null)
            return ApiErrors.BadRequest($"No webhook endpoint '{page.After}' to page after.", "after", "invalid_cursor");
        return TypedResults.Ok(await endpoints.PageByCreationAsync(cursor, page.Take, oldestFirst: false, WebhookEndpointObject.From, w => w.Id, ct));
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
        string id, [AsParameters] PageQuery page, CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (!await db.WebhookEndpoints.AnyAsync(w => w.Id == id && w.ProjectId == caller.ProjectId, ct)) return ApiErrors.NotFound("webhook endpoint", id);
        var after = page.After;
        var deliveries = db.WebhookDeliveries.AsNoTracking().Where(d => d.EndpointId == id);
        if (after is not null)
        {
            if (!after.StartsWith("whdel_", StringComparison.Ordinal) || !long.TryParse(after["whdel_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var afterId))
                return ApiErrors.BadRequest($"'{after}' is not a delivery id (whdel_N).", "after", "invalid_cursor");
            deliveries = deliveries.Where(d => d.Id < afterId);
        }
        return TypedResults.Ok(await deliveries.OrderByDescending(d => d.Id).ToPageAsync(page.Take, WebhookDeliveryObject.From, d => d.Id, ct));
    }
}
