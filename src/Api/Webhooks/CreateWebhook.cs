using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Api.Validation;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Domain.Webhooks;

namespace TuningService.Api.Webhooks;

/// <summary>Body of <c>POST /v1/webhooks</c>.</summary>
/// <param name="Url">Where events are POSTed: an absolute http(s) URL on a public address.</param>
/// <param name="Events">Event types to receive (fine_tuning.job.succeeded, .failed, .cancelled, .running, fine_tuning.job.checkpoint.created); all when omitted.</param>
public sealed record CreateWebhookRequest(string? Url, IReadOnlyList<string>? Events);

internal sealed class CreateWebhookValidator : AbstractValidator<CreateWebhookRequest>
{
    public CreateWebhookValidator()
    {
        RuleFor(r => r.Url).CleanText(2048);
        RuleFor(r => r.Events)
            .Must(e => e is null || e.Count > 0).WithMessage("events must name at least one event type (or be omitted for all).")
            .Must(e => e is null || e.All(WebhookEventTypes.All.Contains))
            .WithMessage($"events may contain only: {string.Join(", ", WebhookEventTypes.All)}.");
    }
}

public static class CreateWebhook
{
    public static async Task<Results<Ok<WebhookEndpointObject>, JsonHttpResult<ErrorResponse>>> Handle(
        CreateWebhookRequest request, WebhookTargets targets, IOptions<WebhooksOptions> options,
        CallerContext caller, TuningDbContext db, CancellationToken ct)
    {
        if (await targets.RefusalAsync(request.Url!, ct) is { } refusal) return ApiErrors.BadRequest(refusal, "url");
        if (await db.WebhookEndpoints.CountAsync(w => w.ProjectId == caller.ProjectId, ct) >= options.Value.MaxEndpointsPerProject)
            return ApiErrors.BadRequest($"A project may have at most {options.Value.MaxEndpointsPerProject} webhook endpoints.", "url", "limit_reached");

        var endpoint = new WebhookEndpoint
        {
            Id = Ids.New("wh_"), ProjectId = caller.ProjectId, Url = request.Url!,
            Events = (request.Events ?? WebhookEventTypes.All).Distinct().ToList(), Secret = WebhookEndpoint.NewSecret(),
        };
        db.WebhookEndpoints.Add(endpoint);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(WebhookEndpointObject.From(endpoint) with { Secret = endpoint.Secret });
    }
}
