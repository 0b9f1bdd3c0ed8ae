using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using System.Text.Json;
using TuningService.Domain.Inference;

namespace TuningService.Worker.Inference;

/// <summary>
/// The inference worker's HTTP surface: the same routes and bodies as the Api's, reached only through the Api (which
/// authenticates the caller and checks the model is theirs). The worker validates again: it is the one with the tokenizer.
/// </summary>
public static class InferenceApi
{
    public static void MapInferenceApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", (HttpContext context, CompletionService service) => HandleAsync(context, service, chat: true));
        app.MapPost("/v1/completions", (HttpContext context, CompletionService service) => HandleAsync(context, service, chat: false));
        app.MapGet("/health", (ModelResidency residency) => TypedResults.Ok(new { status = "ok", resident_models = residency.ResidentIds() }));
    }

    private static async Task HandleAsync(HttpContext context, CompletionService service, bool chat)
    {
        var ct = context.RequestAborted;
        CompletionRequest? request;
        try { request = await JsonSerializer.DeserializeAsync<CompletionRequest>(context.Request.Body, CompletionRequest.Json, ct); }
        catch (JsonException e) { await ErrorAsync(context, 400, $"The body is not a valid request: {e.Message}", e.Path?.TrimStart('$', '.'), "invalid_json"); return; }
        if (request is null) { await ErrorAsync(context, 400, "The body must be a JSON object.", null, "invalid_json"); return; }
        var validation = new CompletionRequestValidator(chat).Validate(request);
        if (!validation.IsValid)
        {
            var failure = validation.Errors[0];
            await ErrorAsync(context, 400, failure.ErrorMessage, failure.PropertyName, failure.ErrorCode);
            return;
        }
        try
        {
            if (request.Stream == true) await service.StreamAsync(request, chat, context.Response, ct);
            else await context.Response.WriteAsJsonAsync(await service.CompleteAsync(request, chat, ct), CompletionRequest.Json, ct);
        }
        catch (CompletionRejected e) { await ErrorAsync(context, e.Status, e.Message, e.Param, e.Code); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { /* the client left: generation has stopped */ }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(InferenceApi)).LogError(e, "Generation with {Model} failed", request.Model);
            await ErrorAsync(context, 500, $"The model '{request.Model}' could not be served: {e.Message}", "model", "model_load_failed", "server_error");
        }
    }

    private static Task ErrorAsync(HttpContext context, int status, string message, string? param, string code, string type = "invalid_request_error")
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new InferenceErrorResponse(new InferenceError(message, type, param, code)), CompletionRequest.Json);
    }
}
