using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Domain;
using TuningService.Domain.Files;
using TuningService.Domain.Models;
using TuningService.Domain.Projects;

namespace TuningService.Api.Tests.Jobs;

/// <summary>The API with a ModelsRoot of its own, plus helpers that seed files, models and projects straight into the database.</summary>
public class JobsApiFactory : ApiFactory
{
    public string ModelsRoot => Directory.CreateDirectory(Scratch.Sub("models")).FullName;

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Tuning:ModelsRoot", ModelsRoot)];

    /// <summary>A fresh project and a client holding its key, so each test sees only its own jobs.</summary>
    public async Task<(string ProjectId, HttpClient Client)> CreateProjectAsync()
    {
        var project = new Project { Id = Ids.New("proj_"), Name = "test" };
        var (key, secret) = ApiKey.Create(project.Id, "test");
        await using var db = CreateDbContext();
        db.Projects.Add(project);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync();
        return (project.Id, CreateClient(secret));
    }

    /// <summary>A file as /v1/files would leave it (that API is built elsewhere); by default big enough for every method (no method-advice warning).</summary>
    public async Task<string> AddFileAsync(string projectId, string format, string status = "processed", int examples = 2_000)
    {
        var file = new DatasetFile
        {
            Id = Ids.New("file-"), ProjectId = projectId, Filename = $"{format}.jsonl", Purpose = "fine-tune", Status = status,
            Format = format, Examples = examples, Bytes = 100,
        };
        await using var db = CreateDbContext();
        db.Files.Add(file);
        await db.SaveChangesAsync();
        return file.Id;
    }

    public async Task<string> AddModelAsync(string projectId, string kind = ModelKinds.FineTuned, string baseModel = "tiny-gpt2")
    {
        var id = $"ft:{baseModel}:{kind.Replace('_', '-')}:{Ids.New("ftjob-")}";
        await using var db = CreateDbContext();
        db.Models.Add(new ModelRecord
        {
            Id = id, ProjectId = projectId, Kind = kind, BaseModel = baseModel, JobId = "ftjob-x", ArtifactPath = "models/x", Architecture = "gpt2",
        });
        await db.SaveChangesAsync();
        return id;
    }
}

public static class JobsHttp
{
    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PostJsonAsync(this HttpClient client, string url, string json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> CreateJobAsync(this HttpClient client, string json)
    {
        var (response, body) = await client.PostJsonAsync("/v1/fine_tuning/jobs", json);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    public static Task<JsonElement> CreateSupervisedJobAsync(this HttpClient client, string fileId, string extra = "") =>
        client.CreateJobAsync($$"""{"model":"tiny-gpt2","training_file":"{{fileId}}"{{extra}}}""");

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> GetJsonAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static JsonElement Error(this JsonElement body) => body.GetProperty("error");

    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;
}
