using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain.Models;

namespace TuningService.Api.Tests.Security;

/// <summary>
/// The API with the per-key rate limit off and a high active-job limit, so a test can send hundreds of requests and
/// create hundreds of jobs; plus shortcuts that go through the public API (projects, keys, uploads).
/// </summary>
public sealed class SecurityApiFactory : JobsApiFactory
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. base.Settings,
        new("Limits:RateLimitRequestsPerWindow", "0"),
        new("Jobs:MaxActiveJobsPerProject", "100000"),
        // No webhook dispatcher or delivery server: their background writes would show in DatabaseSnapshot's
        // before/after comparisons, which must see only what a request changed.
        new("Webhooks:RunDeliveryServer", "false"),
    ];

    /// <summary>A project and a key made through the admin organization API, and a client holding that key.</summary>
    public async Task<(string ProjectId, HttpClient Client)> CreateProjectViaApiAsync(string name)
    {
        var admin = CreateAdminClient();
        var project = await (await admin.PostAsJsonAsync("/v1/organization/projects", new { name })).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>();
        var projectId = project.GetProperty("id").GetString()!;
        var key = await (await admin.PostAsJsonAsync($"/v1/organization/projects/{projectId}/api_keys", new { name = $"{name} key" }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        return (projectId, CreateClient(key.GetProperty("value").GetString()));
    }

    /// <summary>Uploads a small valid prompt/completion dataset through <c>POST /v1/files</c>; returns the file id.</summary>
    public static async Task<string> UploadDatasetAsync(HttpClient client, int examples = 12)
    {
        var lines = Enumerable.Range(0, examples).Select(i => JsonSerializer.Serialize(new { prompt = $"Q{i}:", completion = $" A{i}" }));
        using var form = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")), "file", "train.jsonl" },
        };
        var response = await client.PostAsync("/v1/files", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var file = JsonDocument.Parse(body).RootElement;
        Assert.Equal("processed", file.GetProperty("status").GetString());
        return file.GetProperty("id").GetString()!;
    }

    /// <summary>A fine-tuned model row of <paramref name="projectId"/> with a real artifact directory holding two files.</summary>
    public async Task<(string ModelId, string FileName)> AddModelWithFilesAsync(string projectId)
    {
        var jobId = TuningService.Domain.Ids.New("ftjob-");
        var id = $"ft:tiny-gpt2:iso:{jobId}";
        var relative = Path.Combine("models", jobId);
        var directory = Directory.CreateDirectory(Path.Combine(ArtifactsRoot, relative));
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "config.json"), "{\"model_type\":\"gpt2\"}");
        await File.WriteAllBytesAsync(Path.Combine(directory.FullName, "model.safetensors"), new byte[64]);
        await using var db = CreateDbContext();
        db.Models.Add(new ModelRecord
        {
            Id = id, ProjectId = projectId, Kind = ModelKinds.FineTuned, BaseModel = "tiny-gpt2", JobId = jobId, ArtifactPath = relative, Architecture = "gpt2",
        });
        await db.SaveChangesAsync();
        return (id, "model.safetensors");
    }

    public Task<DatabaseSnapshot> SnapshotAsync() => DatabaseSnapshot.TakeAsync(ConnectionString);
}
