using System.Net;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Models;

namespace TuningService.Api.Tests.Jobs;

/// <summary>
/// Every rule of a job spec is answered at the API edge with a 400 naming the field, model-aware ones included
/// (the model's context, PPO's batch split), instead of a 200 and a job that fails later in the worker.
/// </summary>
public sealed class CreateJobRulesTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private const string Url = "/v1/fine_tuning/jobs";

    private static string Body(string model, string file, string type, string hyperparameters) =>
        "{\"model\":\"" + model + "\",\"training_file\":\"" + file + "\",\"method\":{\"type\":\"" + type + "\",\"" + type + "\":{\"hyperparameters\":{" + hyperparameters + "}}}}";

    private async Task<(HttpClient Client, string ProjectId)> ProjectAsync()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        return (client, projectId);
    }

    private static async Task AssertRefused(HttpClient client, string json, string param, string messagePart)
    {
        var (response, body) = await client.PostJsonAsync(Url, json);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{json} → {(int)response.StatusCode} {body}");
        var error = body.Error();
        Assert.Equal((param, "invalid_value", "invalid_request_error"), (error.Str("param"), error.Str("code"), error.Str("type")));
        Assert.Contains(messagePart, error.Str("message"));
    }

    private async Task AssertNoJobAsync(string projectId)
    {
        await using var db = api.CreateDbContext();
        Assert.False(await db.Jobs.AnyAsync(j => j.ProjectId == projectId));
    }

    [Theory]
    [InlineData("\"rollout_batch_size\":6,\"num_mini_batches\":4")]
    [InlineData("\"num_mini_batches\":3")]   // the default rollout_batch_size (8) does not split into 3
    public async Task Create_Ppo_RolloutBatchNotAMultipleOfMiniBatches_Is400NamingNumMiniBatches(string hyperparameters)
    {
        var (client, projectId) = await ProjectAsync();
        var prompts = await api.AddFileAsync(projectId, "prompt_only");
        var reward = await api.AddModelAsync(projectId, ModelKinds.RewardModel);

        await AssertRefused(client, Body("tiny-gpt2", prompts, "ppo", $"\"reward_model\":\"{reward}\",{hyperparameters}"),
            "method.ppo.hyperparameters.num_mini_batches", "multiple of num_mini_batches");
        await AssertNoJobAsync(projectId);
        await client.CreateJobAsync(Body("tiny-gpt2", prompts, "ppo", $"\"reward_model\":\"{reward}\",\"rollout_batch_size\":12,\"num_mini_batches\":4"));
    }

    [Fact]
    public async Task Create_MaxSeqLengthBeyondAPresetsContext_Is400NamingIt_AtTheContextItIsAccepted()
    {
        var (client, projectId) = await ProjectAsync();
        var file = await api.AddFileAsync(projectId, "prompt_completion");
        var context = ModelCatalog.FindPreset("tiny-gpt2")!.ContextLength;

        await AssertRefused(client, Body("tiny-gpt2", file, "supervised", $"\"max_seq_length\":{context + 1}"),
            "method.supervised.hyperparameters.max_seq_length", $"({context} tokens)");
        await AssertRefused(client, "{\"model\":\"tiny-gpt2\",\"training_file\":\"" + file + "\",\"hyperparameters\":{\"max_seq_length\":4096}}",
            "hyperparameters.max_seq_length", "exceeds the context");
        await AssertNoJobAsync(projectId);

        var job = await client.CreateJobAsync(Body("tiny-gpt2", file, "supervised", $"\"max_seq_length\":{context}"));
        Assert.Equal(context, job.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters").GetProperty("max_seq_length").GetInt32());
    }

    [Fact]
    public async Task Create_PpoResponseLengthLeavingNoRoomForThePrompt_Is400NamingIt()
    {
        var (client, projectId) = await ProjectAsync();
        var prompts = await api.AddFileAsync(projectId, "prompt_only");
        var reward = await api.AddModelAsync(projectId, ModelKinds.RewardModel);

        // tiny-gpt2's context is 512 tokens, so max_seq_length defaults to 512: a 600-token response cannot fit beside any prompt.
        await AssertRefused(client, Body("tiny-gpt2", prompts, "ppo", $"\"reward_model\":\"{reward}\",\"response_length\":600"),
            "method.ppo.hyperparameters.response_length", "leaves no room for the prompt");
        await AssertRefused(client, Body("tiny-gpt2", prompts, "ppo", $"\"reward_model\":\"{reward}\",\"response_length\":100,\"max_seq_length\":100"),
            "method.ppo.hyperparameters.response_length", "max_seq_length (100 tokens");
        await AssertNoJobAsync(projectId);
    }

    [Fact]
    public async Task Create_FromABaseCheckpoint_ReadsItsContextFromConfigJson()
    {
        var (client, projectId) = await ProjectAsync();
        var name = "short-gpt2-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.Combine(api.ModelsRoot, name));
        await File.WriteAllTextAsync(Path.Combine(api.ModelsRoot, name, "config.json"), """{"model_type":"gpt2","n_positions":128}""");
        var file = await api.AddFileAsync(projectId, "prompt_completion");

        await AssertRefused(client, Body(name, file, "supervised", "\"max_seq_length\":256"), "method.supervised.hyperparameters.max_seq_length", "(128 tokens)");
        var job = await client.CreateJobAsync(Body(name, file, "supervised", ""));
        // The documented default (512) is capped at the checkpoint's context instead of being clamped later by the worker.
        Assert.Equal(128, job.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters").GetProperty("max_seq_length").GetInt32());
    }

    [Theory]
    [InlineData("""{"model_type":"gemma3"}""", "model_type 'gemma3' is not supported")]
    [InlineData("""{"model_type":"llama","rope_scaling":{"rope_type":"longrope","factor":4.0}}""", "rope_scaling type 'longrope' is not supported")]
    public async Task Create_FromACheckpointTheEngineCannotTrain_Is400NamingWhatIsUnsupported(string config, string message)
    {
        var (client, projectId) = await ProjectAsync();
        var name = "unsupported-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.Combine(api.ModelsRoot, name));
        await File.WriteAllTextAsync(Path.Combine(api.ModelsRoot, name, "config.json"), config);
        var file = await api.AddFileAsync(projectId, "prompt_completion");

        var (response, body) = await client.PostJsonAsync(Url, Body(name, file, "supervised", ""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("model", "model_not_supported"), (body.Error().Str("param"), body.Error().Str("code")));
        Assert.Contains(message, body.Error().Str("message"));
        await AssertNoJobAsync(projectId);
    }

    [Fact]
    public async Task Create_FromAFineTunedModel_ReadsItsContextFromItsArtifactConfig()
    {
        var (client, projectId) = await ProjectAsync();
        var model = await api.AddModelAsync(projectId, ModelKinds.FineTuned);
        await using (var db = api.CreateDbContext())
        {
            var record = await db.Models.SingleAsync(m => m.Id == model);
            var directory = Path.Combine(api.ArtifactsRoot, record.ArtifactPath);
            Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "config.json"), """{"model_type":"llama","max_position_embeddings":64}""");
        }
        var file = await api.AddFileAsync(projectId, "chat");

        await AssertRefused(client, Body(model, file, "instruction", "\"max_seq_length\":65"), "method.instruction.hyperparameters.max_seq_length", "(64 tokens)");
        await client.CreateJobAsync(Body(model, file, "instruction", "\"max_seq_length\":64"));
    }

    [Theory]
    [InlineData("supervised", "prompt_completion", 1e-2)]
    [InlineData("reward_model", "preference", 1e-3)]
    [InlineData("dpo", "preference", 1e-3)]
    public async Task Create_StoresTheMethodsOwnBaseLearningRate_TimesTheAutoMultiplierOfTheBaseKind(string method, string format, double preset)
    {
        var (client, projectId) = await ProjectAsync();
        var file = await api.AddFileAsync(projectId, format);
        var checkpoint = "hf-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.Combine(api.ModelsRoot, checkpoint));
        await File.WriteAllTextAsync(Path.Combine(api.ModelsRoot, checkpoint, "config.json"), """{"model_type":"gpt2"}""");

        var onPreset = await StoredAsync(await client.CreateJobAsync(Body("tiny-gpt2", file, method, "")));
        var onCheckpoint = await StoredAsync(await client.CreateJobAsync(Body(checkpoint, file, method, "")));
        var finetuned = await api.AddModelAsync(projectId);                 // fine-tuned from tiny-gpt2: still random-init family
        var onFineTuned = await StoredAsync(await client.CreateJobAsync(Body(finetuned, file, method, "")));

        Assert.Equal(preset, onPreset.Method!.Selected!.LearningRate!.Value, 12);
        Assert.Equal(preset, onFineTuned.Method!.Selected!.LearningRate!.Value, 12);
        Assert.Equal((HyperparameterRanges.BaseLearningRate(method), 1.0),
            (onCheckpoint.Method!.Selected!.LearningRate, onCheckpoint.Method.Selected.LearningRateMultiplier));
        Assert.All(new[] { onPreset, onCheckpoint, onFineTuned }, spec => Assert.Empty(JobSpecValidation.Validate(spec))); // rate and multiplier agree
    }

    private async Task<JobSpec> StoredAsync(System.Text.Json.JsonElement job)
    {
        await using var db = api.CreateDbContext();
        return JobSpecSerializer.Deserialize((await db.Jobs.SingleAsync(j => j.Id == job.Str("id"))).Spec);
    }
}
