using System.Net;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain;
using TuningService.Domain.Models;

namespace TuningService.Api.Tests.Models;

public sealed class ModelsApiTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Fact]
    public async Task ListModels_HasPresets_BaseCheckpoints_AndOnlyTheCallersFineTunedModels()
    {
        Directory.CreateDirectory(Path.Combine(api.ModelsRoot, "hf-gpt2"));
        await File.WriteAllTextAsync(Path.Combine(api.ModelsRoot, "hf-gpt2", "config.json"), """{"model_type":"gpt2"}""");
        var (projectId, client) = await api.CreateProjectAsync();
        var (otherProject, _) = await api.CreateProjectAsync();
        var mine = await api.AddModelAsync(projectId);
        var theirs = await api.AddModelAsync(otherProject);

        var (response, list) = await client.GetJsonAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", list.Str("object"));
        var models = list.GetProperty("data").EnumerateArray().ToDictionary(m => m.Str("id"));
        Assert.Equal(("model", "system", "base_preset", "gpt2"), (models["tiny-gpt2"].Str("object"), models["tiny-gpt2"].Str("owned_by"),
            models["tiny-gpt2"].Str("kind"), models["tiny-gpt2"].Str("architecture")));
        Assert.Equal("llama", models["tiny-llama"].Str("architecture"));
        Assert.Equal(("base_checkpoint", "gpt2"), (models["hf-gpt2"].Str("kind"), models["hf-gpt2"].Str("architecture")));
        Assert.Equal(("fine_tuned", "tiny-gpt2", projectId), (models[mine].Str("kind"), models[mine].Str("base_model"), models[mine].Str("owned_by")));
        Assert.False(models.ContainsKey(theirs));
        Assert.True(models[mine].GetProperty("created").GetInt64() > 0);
    }

    [Fact]
    public async Task GetModel_AcceptsIdsWithColons()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var mine = await api.AddModelAsync(projectId, ModelKinds.RewardModel);
        Assert.Contains(':', mine);
        var (response, model) = await client.GetJsonAsync($"/v1/models/{mine}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((mine, "reward_model"), (model.Str("id"), model.Str("kind")));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/models/{Uri.EscapeDataString(mine)}")).StatusCode);
        Assert.Equal("tiny-llama", (await client.GetJsonAsync("/v1/models/tiny-llama")).Body.Str("id"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/models/ft:nope:x:ftjob-y")).StatusCode);
    }

    [Fact]
    public async Task DeleteModel_DeletesTheCallersFineTunedModel_RefusesBaseModels_And404sOthers()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var (otherProject, _) = await api.CreateProjectAsync();
        var mine = await api.AddModelAsync(projectId);
        var theirs = await api.AddModelAsync(otherProject);

        var (response, deleted) = await client.DeleteAsync($"/v1/models/{mine}") is var r ? (r, System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement) : default;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((mine, "model", true), (deleted.Str("id"), deleted.Str("object"), deleted.GetProperty("deleted").GetBoolean()));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/models/{mine}")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync("/v1/models/tiny-gpt2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/v1/models/{theirs}")).StatusCode);
    }

    [Fact]
    public async Task ADeletedModel_CannotBeFineTunedFrom()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var mine = await api.AddModelAsync(projectId);
        await client.DeleteAsync($"/v1/models/{mine}");
        var file = await api.AddFileAsync(projectId, "text");
        var (response, body) = await client.PostJsonAsync("/v1/fine_tuning/jobs", $$"""{"model":"{{mine}}","training_file":"{{file}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("model_not_found", body.Error().Str("code"));
    }

    [Fact]
    public async Task ModelFiles_ListAndStream_AFineTunedModelsFilesAndAdapter_ABaseCheckpointsFiles_AndNothingForPresets()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var (_, otherClient) = await api.CreateProjectAsync();
        var jobId = Ids.New("ftjob-");
        var modelDir = Path.Combine(api.ArtifactsRoot, "models", jobId);
        Directory.CreateDirectory(Path.Combine(modelDir, ModelRecord.AdapterDirectory));
        await File.WriteAllTextAsync(Path.Combine(modelDir, "config.json"), """{"model_type":"gpt2"}""");
        await File.WriteAllBytesAsync(Path.Combine(modelDir, "model.safetensors"), [1, 2, 3]);
        await File.WriteAllTextAsync(Path.Combine(modelDir, ModelRecord.AdapterDirectory, "adapter_config.json"), """{"peft_type":"LORA"}""");
        await File.WriteAllTextAsync(Path.Combine(modelDir, ModelRecord.AdapterDirectory, "tokenizer.json"), "{}"); // only adapter_* files are listed
        var modelId = $"ft:tiny-gpt2:{jobId}";
        await using (var db = api.CreateDbContext())
        {
            db.Models.Add(new ModelRecord
            {
                Id = modelId, ProjectId = projectId, Kind = ModelKinds.FineTuned, BaseModel = "tiny-gpt2", JobId = jobId,
                ArtifactPath = Path.Combine("models", jobId), Architecture = "gpt2",
            });
            await db.SaveChangesAsync();
        }
        Directory.CreateDirectory(Path.Combine(api.ModelsRoot, "hf-files"));
        await File.WriteAllTextAsync(Path.Combine(api.ModelsRoot, "hf-files", "config.json"), """{"model_type":"llama"}""");

        var escaped = Uri.EscapeDataString(modelId);
        var (response, list) = await client.GetJsonAsync($"/v1/models/{escaped}/files");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["adapter_config.json", "config.json", "model.safetensors"],
            list.GetProperty("data").EnumerateArray().Select(f => f.Str("name")).Order(StringComparer.Ordinal));
        Assert.Equal([1, 2, 3], await client.GetByteArrayAsync($"/v1/models/{escaped}/files/model.safetensors"));
        Assert.Equal("LORA", (await client.GetJsonAsync($"/v1/models/{escaped}/files/adapter_config.json")).Body.Str("peft_type"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/models/{escaped}/files/tokenizer.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherClient.GetAsync($"/v1/models/{escaped}/files")).StatusCode);

        var (_, checkpoint) = await client.GetJsonAsync("/v1/models/hf-files/files");
        Assert.Equal(["config.json"], checkpoint.GetProperty("data").EnumerateArray().Select(f => f.Str("name")));
        var (presetResponse, preset) = await client.GetJsonAsync("/v1/models/tiny-gpt2/files");
        Assert.Equal(HttpStatusCode.OK, presetResponse.StatusCode);
        Assert.Empty(preset.GetProperty("data").EnumerateArray());
    }
}
