using System.Text;

namespace TuningService.Api.Tests.Security.Matrix;

/// <summary>What project A owns while project B probes: a dataset, a job on it (with a checkpoint), a fine-tuned model with files, a webhook endpoint.</summary>
public sealed record OwnedResources(string ProjectId, string FileId, string JobId, string ModelId, string ModelFileName, string WebhookId)
{
    public IEnumerable<string> Ids => [FileId, JobId, ModelId, WebhookId];
}

/// <summary>What another project's key must get from a route.</summary>
public enum Isolation
{
    /// <summary>404 in the error shape, as if the resource did not exist; the database unchanged.</summary>
    NotFound,
    /// <summary>200, and none of the owner's ids in the body; the database unchanged.</summary>
    NotListed,
    /// <summary>400 naming <see cref="IsolationProbe.Param"/>: the owner's resource "does not exist" for the caller; the database unchanged.</summary>
    RefusedAsMissing,
    /// <summary>The route acts on the caller's own project only (it creates or reports something of the caller's).</summary>
    CallersOwn,
}

/// <summary>One request of project B against project A's resources, and what it must get.</summary>
public sealed record IsolationProbe(string Route, string Name, Isolation Expect, Func<OwnedResources, HttpRequestMessage> Request, string? Param = null)
{
    public override string ToString() => $"{Route} ({Name})";
}

/// <summary>
/// Every project-scoped route, as "METHOD /template" exactly as the OpenAPI document names it, with the probes that prove
/// another project cannot see or touch what it reaches. <c>RouteTableTests</c> checks this table covers the document.
/// </summary>
public static class ProjectRoutes
{
    public static readonly IReadOnlyList<IsolationProbe> Probes =
    [
        new("GET /v1/me", "reports the caller's project", Isolation.CallersOwn, _ => Get("/v1/me")),

        new("POST /v1/files", "upload lands in the caller's project", Isolation.CallersOwn, _ => Upload()),
        new("GET /v1/files", "list", Isolation.NotListed, _ => Get("/v1/files")),
        new("GET /v1/files", "list after the owner's file", Isolation.RefusedAsMissing, o => Get($"/v1/files?after={o.FileId}"), "after"),
        new("GET /v1/files/{id}", "retrieve", Isolation.NotFound, o => Get($"/v1/files/{o.FileId}")),
        new("GET /v1/files/{id}/content", "download", Isolation.NotFound, o => Get($"/v1/files/{o.FileId}/content")),
        new("DELETE /v1/files/{id}", "delete", Isolation.NotFound, o => new(HttpMethod.Delete, $"/v1/files/{o.FileId}")),

        new("POST /v1/fine_tuning/jobs", "create on the owner's file", Isolation.RefusedAsMissing,
            o => Post("/v1/fine_tuning/jobs", $$"""{"model":"tiny-gpt2","training_file":"{{o.FileId}}"}"""), "training_file"),
        new("POST /v1/fine_tuning/jobs", "create on the owner's model", Isolation.RefusedAsMissing,
            o => Post("/v1/fine_tuning/jobs", $$"""{"model":"{{o.ModelId}}","training_file":"{{o.FileId}}"}"""), "model"),
        new("GET /v1/fine_tuning/jobs", "list", Isolation.NotListed, _ => Get("/v1/fine_tuning/jobs")),
        new("GET /v1/fine_tuning/jobs", "list after the owner's job", Isolation.RefusedAsMissing, o => Get($"/v1/fine_tuning/jobs?after={o.JobId}"), "after"),
        new("GET /v1/fine_tuning/jobs/{id}", "retrieve", Isolation.NotFound, o => Get($"/v1/fine_tuning/jobs/{o.JobId}")),
        new("POST /v1/fine_tuning/jobs/{id}/cancel", "cancel", Isolation.NotFound, o => Post($"/v1/fine_tuning/jobs/{o.JobId}/cancel")),
        new("POST /v1/fine_tuning/jobs/{id}/pause", "pause", Isolation.NotFound, o => Post($"/v1/fine_tuning/jobs/{o.JobId}/pause")),
        new("POST /v1/fine_tuning/jobs/{id}/resume", "resume", Isolation.NotFound, o => Post($"/v1/fine_tuning/jobs/{o.JobId}/resume")),
        new("GET /v1/fine_tuning/jobs/{id}/events", "events", Isolation.NotFound, o => Get($"/v1/fine_tuning/jobs/{o.JobId}/events")),
        new("GET /v1/fine_tuning/jobs/{id}/events", "event stream", Isolation.NotFound, o => Get($"/v1/fine_tuning/jobs/{o.JobId}/events?stream=true")),
        new("GET /v1/fine_tuning/jobs/{id}/checkpoints", "checkpoints", Isolation.NotFound, o => Get($"/v1/fine_tuning/jobs/{o.JobId}/checkpoints")),

        new("POST /v1/webhooks", "endpoint lands in the caller's project", Isolation.CallersOwn,
            _ => Post("/v1/webhooks", """{"url":"https://hooks.example.com/stranger"}""")),
        new("GET /v1/webhooks", "list", Isolation.NotListed, _ => Get("/v1/webhooks")),
        new("GET /v1/webhooks", "list after the owner's endpoint", Isolation.RefusedAsMissing, o => Get($"/v1/webhooks?after={o.WebhookId}"), "after"),
        new("GET /v1/webhooks/{id}", "retrieve", Isolation.NotFound, o => Get($"/v1/webhooks/{o.WebhookId}")),
        new("DELETE /v1/webhooks/{id}", "delete", Isolation.NotFound, o => new(HttpMethod.Delete, $"/v1/webhooks/{o.WebhookId}")),
        new("GET /v1/webhooks/{id}/deliveries", "delivery log", Isolation.NotFound, o => Get($"/v1/webhooks/{o.WebhookId}/deliveries")),

        new("GET /v1/models", "list", Isolation.NotListed, _ => Get("/v1/models")),
        new("GET /v1/models/{id}", "retrieve", Isolation.NotFound, o => Get($"/v1/models/{o.ModelId}")),
        new("DELETE /v1/models/{id}", "delete", Isolation.NotFound, o => new(HttpMethod.Delete, $"/v1/models/{o.ModelId}")),
        new("GET /v1/models/{id}/files", "file list", Isolation.NotFound, o => Get($"/v1/models/{o.ModelId}/files")),
        new("GET /v1/models/{id}/files/{name}", "file download", Isolation.NotFound, o => Get($"/v1/models/{o.ModelId}/files/{o.ModelFileName}")),

        new("POST /v1/chat/completions", "generate with the owner's model", Isolation.NotFound,
            o => Post("/v1/chat/completions", $$"""{"model":"{{o.ModelId}}","messages":[{"role":"user","content":"hi"}]}""")),
        new("POST /v1/completions", "generate with the owner's model", Isolation.NotFound,
            o => Post("/v1/completions", $$"""{"model":"{{o.ModelId}}","prompt":"hi"}""")),
    ];

    /// <summary>Routes that are not project-scoped: the admin area, health probes, the API description.</summary>
    public static bool IsOutOfScope(string route)
    {
        var path = route[(route.IndexOf(' ') + 1)..];
        return path.StartsWith("/v1/organization", StringComparison.Ordinal) || path.StartsWith("/health", StringComparison.Ordinal)
            || path.StartsWith("/swagger", StringComparison.Ordinal) || path.StartsWith("/hangfire", StringComparison.Ordinal);
    }

    public static TheoryData<IsolationProbe> All()
    {
        var data = new TheoryData<IsolationProbe>();
        foreach (var probe in Probes) data.Add(probe);
        return data;
    }

    private static HttpRequestMessage Get(string url) => new(HttpMethod.Get, url);

    private static HttpRequestMessage Post(string url, string? json = null) =>
        new(HttpMethod.Post, url) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };

    private static HttpRequestMessage Upload() => new(HttpMethod.Post, "/v1/files")
    {
        Content = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new StringContent("{\"prompt\":\"a\",\"completion\":\" b\"}\n"), "file", "mine.jsonl" },
        },
    };
}
