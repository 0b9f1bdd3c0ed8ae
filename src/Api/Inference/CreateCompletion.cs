using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain.Inference;

namespace TuningService.Api.Inference;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c>: authenticates (the v1 group), validates the body,
/// checks the model is visible to the caller's project, and forwards the request unchanged to a live inference worker,
/// streaming its answer through as it comes (server-sent events included). The caller going away cancels the forwarded
/// request, and with it the generation. No live worker: 503 with Retry-After.
/// </summary>
public static class CreateCompletion
{
    public const string InferenceClient = "inference";

    public static Task Chat(HttpContext context, CallerContext caller, ModelVisibility models, InferenceWorkerRouter router,
        IHttpClientFactory clients, IOptions<InferenceRoutingOptions> options) =>
        HandleAsync(context, caller, models, router, clients, options.Value, chat: true);

    public static Task Text(HttpContext context, CallerContext caller, ModelVisibility models, InferenceWorkerRouter router,
        IHttpClientFactory clients, IOptions<InferenceRoutingOptions> options) =>
        HandleAsync(context, caller, models, router, clients, options.Value, chat: false);

    private static async Task HandleAsync(HttpContext context, CallerContext caller, ModelVisibility models, InferenceWorkerRouter router,
        IHttpClientFactory clients, InferenceRoutingOptions options, bool chat)
    {
        var ct = context.RequestAborted;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, ct);
        var body = buffer.ToArray();
        CompletionRequest? request;
        try { request = JsonSerializer.Deserialize<CompletionRequest>(body, CompletionRequest.Json); }
        catch (JsonException e)
        {
            await ApiErrors.Write(context, 400, $"The body is not a valid request: {e.Message}", code: "invalid_json", param: e.Path?.TrimStart('$', '.'));
            return;
        }
        if (request is null) { await ApiErrors.Write(context, 400, "The body must be a JSON object.", code: "invalid_json"); return; }
        var validation = new CompletionRequestValidator(chat).Validate(request);
        if (!validation.IsValid)
        {
            var failure = validation.Errors[0];
            await ApiErrors.Write(context, 400, failure.ErrorMessage, code: failure.ErrorCode, param: failure.PropertyName);
            return;
        }
        switch (await models.CheckAsync(caller.ProjectId, request.Model!, ct))
        {
            case ModelVisibility.Verdict.NotFound:
                await ApiErrors.Write(context, 404, $"The model '{request.Model}' does not exist or you do not have access to it.", code: "model_not_found", param: "model");
                return;
            case ModelVisibility.Verdict.NotGenerative:
                await ApiErrors.Write(context, 400, $"'{request.Model}' is a reward model: it scores text and cannot generate.", code: "model_not_generative", param: "model");
                return;
        }

        var http = clients.CreateClient(InferenceClient);
        foreach (var worker in await router.CandidatesAsync(request.Model!, ct))
        {
            using var forward = new HttpRequestMessage(HttpMethod.Post, worker.Address + context.Request.Path)
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } },
            };
            HttpResponseMessage response;
            try { response = await http.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, ct); }
            catch (HttpRequestException) { continue; } // gone since its last heartbeat: try the next one
            using (response)
            {
                await CopyResponseAsync(context, response, ct);
                return;
            }
        }
        context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ApiErrors.Write(context, 503, "No inference worker is available right now; retry shortly.", type: "server_error", code: "no_inference_worker");
    }

    /// <summary>Status, content type and body as they come, flushed chunk by chunk so that events are not held back.</summary>
    private static async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response, CancellationToken ct)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.ContentType is { } type) context.Response.ContentType = type.ToString();
        if (response.Headers.CacheControl is { } cache) context.Response.Headers.CacheControl = cache.ToString();
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            await context.Response.Body.WriteAsync(chunk.AsMemory(0, read), ct);
            await context.Response.Body.FlushAsync(ct);
        }
    }
}
