using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TuningService.Domain.Files;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Models;

namespace TuningService.Api.Tests.Jobs;

/// <summary>
/// The OpenAPI document's examples run as shown: every create-job example body is accepted once the files and models
/// it names exist, and every id parameter's example is an id of the resource its route is about.
/// </summary>
public sealed class SwaggerExamplesTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private static readonly Dictionary<string, string> FormatByMethod = new()
    {
        [MethodTypes.Supervised] = "prompt_completion", [MethodTypes.Instruction] = "chat", [MethodTypes.RewardModel] = "preference",
        [MethodTypes.Dpo] = "preference", [MethodTypes.Ppo] = "prompt_only",
    };

    [Fact]
    public async Task EveryCreateJobExample_IsAccepted_AsShown()
    {
        using var document = JsonDocument.Parse(await api.CreateClient(apiKey: null).GetStringAsync("/swagger/v1/swagger.json"));
        var examples = document.RootElement.GetProperty("paths").GetProperty("/v1/fine_tuning/jobs").GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("examples")
            .EnumerateObject().Select(e => (e.Name, Body: JsonNode.Parse(e.Value.GetProperty("value").GetRawText())!.AsObject())).ToList();
        Assert.True(examples.Count >= 6);

        var (projectId, client) = await api.CreateProjectAsync();
        foreach (var (_, body) in examples) await SeedWhatItNamesAsync(projectId, body);
        foreach (var (name, body) in examples)
        {
            var (response, answer) = await client.PostJsonAsync("/v1/fine_tuning/jobs", body.ToJsonString());
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"example '{name}' → {(int)response.StatusCode} {answer}");
            await client.PostAsync($"/v1/fine_tuning/jobs/{answer.GetProperty("id").GetString()}/cancel", null); // stay under the active-jobs limit
        }
    }

    [Fact]
    public async Task IdParameterExamples_AreIdsOfTheirRoutesResource_AndHealthNeedsNoKey()
    {
        using var document = JsonDocument.Parse(await api.CreateClient(apiKey: null).GetStringAsync("/swagger/v1/swagger.json"));
        var prefixes = new (string Route, string Prefix)[]
        {
            ("/v1/files", "file-"), ("/v1/fine_tuning/jobs", "ftjob-"), ("/v1/webhooks", "wh_"), ("/v1/organization/projects", "proj_"),
        };
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (!operation.Value.TryGetProperty("parameters", out var parameters)) continue;
                foreach (var parameter in parameters.EnumerateArray().Where(p => p.GetProperty("name").GetString() is "id" or "after"))
                {
                    var example = parameter.GetProperty("example").GetString()!;
                    var name = parameter.GetProperty("name").GetString();
                    var expected = name == "after" && path.Name.EndsWith("/events") ? "ftevent-"
                        : name == "after" && path.Name.EndsWith("/checkpoints") ? "ftckpt-"
                        : name == "after" && path.Name.EndsWith("/deliveries") ? "whdel_"
                        : name == "after" && path.Name.EndsWith("/api_keys") ? "key_"
                        : path.Name.StartsWith("/v1/models") ? "tiny-gpt2"
                        : prefixes.First(p => path.Name.StartsWith(p.Route)).Prefix;
                    Assert.True(example.StartsWith(expected), $"{operation.Name.ToUpperInvariant()} {path.Name}: {name} example '{example}' is not a {expected} id");
                }
            }

        var live = document.RootElement.GetProperty("paths").GetProperty("/health/live").GetProperty("get");
        Assert.Equal(0, live.GetProperty("security").GetArrayLength());
        var jobSpec = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("JobSpec");
        Assert.Equal("string", jobSpec.GetProperty("properties").GetProperty("model").GetProperty("type").GetString());
        var listJobs = document.RootElement.GetProperty("paths").GetProperty("/v1/fine_tuning/jobs").GetProperty("get").GetProperty("parameters");
        Assert.Contains(listJobs.EnumerateArray(), p => p.GetProperty("name").GetString() == "metadata" && p.GetProperty("style").GetString() == "deepObject");
    }

    /// <summary>The files and models an example names, under exactly those ids, in the formats its method reads.</summary>
    private async Task SeedWhatItNamesAsync(string projectId, JsonObject body)
    {
        var method = body["method"]?["type"]?.GetValue<string>() ?? MethodTypes.Supervised;
        await using var db = api.CreateDbContext();
        foreach (var field in new[] { "training_file", "validation_file" })
            if (body[field]?.GetValue<string>() is { } fileId && await db.Files.FindAsync(fileId) is null)
                db.Files.Add(new DatasetFile
                {
                    Id = fileId, ProjectId = projectId, Filename = fileId + ".jsonl", Purpose = "fine-tune", Status = DatasetFileStatus.Processed,
                    Format = FormatByMethod[method], Examples = 200, Bytes = 100,
                });
        var models = new List<(string Id, string Kind)>();
        if (body["model"]?.GetValue<string>() is { } model && model.StartsWith("ft:")) models.Add((model, ModelKinds.FineTuned));
        if (body["method"]?["ppo"]?["hyperparameters"]?["reward_model"]?.GetValue<string>() is { } reward) models.Add((reward, ModelKinds.RewardModel));
        foreach (var (id, kind) in models)
            if (await db.Models.FindAsync(id) is null)
                db.Models.Add(new ModelRecord
                {
                    Id = id, ProjectId = projectId, Kind = kind, BaseModel = "tiny-gpt2", JobId = id[(id.LastIndexOf(':') + 1)..],
                    ArtifactPath = "models/" + id.Replace(':', '_'), Architecture = "gpt2",
                });
        await db.SaveChangesAsync();
    }
}
