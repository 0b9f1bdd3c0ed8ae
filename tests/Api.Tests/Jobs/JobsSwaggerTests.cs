using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Domain.Jobs.Specs;

namespace TuningService.Api.Tests.Jobs;

public sealed class JobsSwaggerTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Fact]
    public async Task Swagger_DocumentsEveryJobsAndModelsEndpoint_WithAnExamplePerMethod_AndHyperparameterRanges()
    {
        var doc = await api.CreateClient(apiKey: null).GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/v1/fine_tuning/jobs", "/v1/fine_tuning/jobs/{id}", "/v1/fine_tuning/jobs/{id}/cancel", "/v1/fine_tuning/jobs/{id}/pause",
                     "/v1/fine_tuning/jobs/{id}/resume", "/v1/fine_tuning/jobs/{id}/events", "/v1/fine_tuning/jobs/{id}/checkpoints", "/v1/models" })
            Assert.True(paths.TryGetProperty(path, out _), path);

        var examples = paths.GetProperty("/v1/fine_tuning/jobs").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");
        foreach (var method in new[] { "supervised", "instruction", "reward_model", "ppo", "dpo" })
            Assert.True(examples.TryGetProperty(method, out _), method);

        var schemas = doc.GetProperty("components").GetProperty("schemas");
        var nEpochs = schemas.GetProperty("SupervisedHyperparameters").GetProperty("properties").GetProperty("n_epochs");
        Assert.Equal(1, nEpochs.GetProperty("minimum").GetDouble());
        Assert.Equal(50, nEpochs.GetProperty("maximum").GetDouble());
        Assert.Equal(3, nEpochs.GetProperty("default").GetInt32());
        Assert.Equal(["model", "training_file"], schemas.GetProperty("JobSpec").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var beta = schemas.GetProperty("DpoHyperparameters").GetProperty("properties").GetProperty("beta");
        Assert.Contains("auto", beta.GetProperty("description").GetString());
        // Defaults come from HyperparameterRanges (their one source), numeric or not; computed ones (learning_rate) have none.
        Assert.Equal(HyperparameterRanges.Beta.Value, beta.GetProperty("default").GetDouble());
        var supervised = schemas.GetProperty("SupervisedHyperparameters").GetProperty("properties");
        Assert.Equal(HyperparameterRanges.DefaultLrScheduler, supervised.GetProperty("lr_scheduler").GetProperty("default").GetString());
        Assert.Equal(HyperparameterRanges.MaxSeqLength.IntValue, supervised.GetProperty("max_seq_length").GetProperty("default").GetInt32());
        Assert.False(supervised.GetProperty("train_on_inputs").GetProperty("default").GetBoolean());
        Assert.False(supervised.GetProperty("packing").GetProperty("default").GetBoolean());
        Assert.False(supervised.GetProperty("gradient_checkpointing").GetProperty("default").GetBoolean());
        Assert.Equal(Precisions.Auto, supervised.GetProperty("precision").GetProperty("default").GetString());
        Assert.Contains("bf16", supervised.GetProperty("precision").GetProperty("description").GetString());
        var ppoPrecision = schemas.GetProperty("PpoHyperparameters").GetProperty("properties").GetProperty("precision").GetProperty("description").GetString();
        Assert.Contains("ppo", ppoPrecision);                      // every method trains in bf16: the text says what the RLHF methods keep in float32
        Assert.DoesNotContain("supervised and instruction only", ppoPrecision);
        Assert.False(supervised.GetProperty("learning_rate").TryGetProperty("default", out _));
    }
}
