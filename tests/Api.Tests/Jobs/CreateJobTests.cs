using System.Net;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Models;
using TuningService.Domain.Queue;

namespace TuningService.Api.Tests.Jobs;

public sealed class CreateJobTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private const string Url = "/v1/fine_tuning/jobs";

    [Fact]
    public async Task Create_Supervised_Returns200WithTheOpenAiJobObject_Queued()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "prompt_completion");
        var job = await client.CreateJobAsync((@"{""model"":""tiny-gpt2"",""training_file"":""" + (file) + @""",""suffix"":""sent"",""seed"":42,""metadata"":{""team"":""a""},
""hyperparameters"":{""n_epochs"":2,""batch_size"":""auto"",""learning_rate_multiplier"":2}}"));

        Assert.StartsWith("ftjob-", job.Str("id"));
        Assert.Equal("fine_tuning.job", job.Str("object"));
        Assert.Equal("queued", job.Str("status"));
        Assert.Equal("tiny-gpt2", job.Str("model"));
        Assert.Equal(projectId, job.Str("organization_id"));
        Assert.Equal(file, job.Str("training_file"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, job.GetProperty("validation_file").ValueKind);
        Assert.Equal(42, job.GetProperty("seed").GetInt64());
        Assert.Equal("sent", job.Str("user_provided_suffix"));
        Assert.Equal("a", job.GetProperty("metadata").Str("team"));
        Assert.Equal(0, job.GetProperty("integrations").GetArrayLength());
        Assert.Equal(0, job.GetProperty("result_files").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, job.GetProperty("error").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, job.GetProperty("finished_at").ValueKind);
        Assert.InRange(job.GetProperty("created_at").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        var hp = job.GetProperty("hyperparameters");
        Assert.Equal((2, 8, 2.0), (hp.GetProperty("n_epochs").GetInt32(), hp.GetProperty("batch_size").GetInt32(), hp.GetProperty("learning_rate_multiplier").GetDouble()));
        var method = job.GetProperty("method");
        Assert.Equal("supervised", method.Str("type"));
        var resolved = method.GetProperty("supervised").GetProperty("hyperparameters");
        Assert.Equal(2e-4, resolved.GetProperty("learning_rate").GetDouble(), 12);
        Assert.Equal("linear", resolved.Str("lr_scheduler"));
        Assert.Equal(0, job.GetProperty("progress").GetProperty("step").GetInt32());
    }

    [Fact]
    public async Task Create_StoresTheResolvedSpec_AppendsEvents_AndEnqueuesOnTheTrainingQueue()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "preference");
        var job = await client.CreateJobAsync((@"{""model"":""tiny-llama"",""training_file"":""" + (file) + @""",""method"":{""type"":""dpo"",""dpo"":{""hyperparameters"":{""beta"":""auto"",""lora"":{}}}}}"));

        await using var db = api.CreateDbContext();
        var row = await db.Jobs.SingleAsync(j => j.Id == job.Str("id"));
        Assert.Equal(JobStatus.Queued, row.Status);
        Assert.Equal("dpo", row.MethodType);
        var spec = JobSpecSerializer.Deserialize(row.Spec); // exactly what the worker does
        Assert.Equal(0.1, spec.Method!.Dpo!.Hyperparameters!.Beta);
        Assert.Equal(["q_proj", "v_proj"], spec.Method.Dpo.Hyperparameters.Lora!.TargetModules);
        Assert.Equal(row.Seed, spec.Seed);

        var events = await db.JobEvents.Where(e => e.JobId == row.Id).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
        Assert.Equal([$"Validating training file: {file}", "Job queued."], events);

        Assert.NotNull(row.HangfireJobId);
        var details = api.GetService<JobStorage>().GetMonitoringApi().JobDetails(row.HangfireJobId);
        Assert.Equal("Enqueued", details.History[0].StateName);
        Assert.Equal(ITrainingJobRunner.QueueName, details.History[0].Data["Queue"]);
        Assert.Equal(nameof(ITrainingJobRunner.RunAsync), details.Job.Method.Name);
        Assert.Equal(row.Id, details.Job.Args[0]);
    }

    [Theory]
    [InlineData("instruction", "chat")]
    [InlineData("reward_model", "preference")]
    [InlineData("supervised", "text")]
    public async Task Create_AcceptsEachMethodWithItsFileFormat(string method, string format)
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, format);
        var job = await client.CreateJobAsync((@"{""model"":""tiny-gpt2"",""training_file"":""" + (file) + @""",""method"":{""type"":""" + (method) + @"""}}"));
        Assert.Equal(method, job.GetProperty("method").Str("type"));
        Assert.True(job.GetProperty("method").TryGetProperty(method, out _));
    }

    [Fact]
    public async Task Create_Ppo_WithAProjectRewardModel_FromAFineTunedModel()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "prompt_only", examples: 7);
        var policy = await api.AddModelAsync(projectId, ModelKinds.FineTuned);
        var reward = await api.AddModelAsync(projectId, ModelKinds.RewardModel);
        var job = await client.CreateJobAsync((@"{""model"":""" + (policy) + @""",""training_file"":""" + (file) + @""",""method"":{""type"":""ppo"",""ppo"":{""hyperparameters"":{""reward_model"":""" + (reward) + @"""}}}}"));
        var h = job.GetProperty("method").GetProperty("ppo").GetProperty("hyperparameters");
        Assert.Equal(reward, h.Str("reward_model"));
        Assert.Equal(21, h.GetProperty("total_episodes").GetInt64()); // 3 epochs × 7 prompts
        Assert.Equal(policy, job.Str("model"));
    }

    [Fact]
    public async Task Create_FromABaseCheckpointUnderModelsRoot()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        Directory.CreateDirectory(Path.Combine(api.ModelsRoot, "local-llama"));
        await File.WriteAllTextAsync(Path.Combine(api.ModelsRoot, "local-llama", "config.json"), """{"model_type":"llama"}""");
        var file = await api.AddFileAsync(projectId, "chat");
        var job = await client.CreateJobAsync((@"{""model"":""local-llama"",""training_file"":""" + (file) + @""",""method"":{""type"":""instruction"",""instruction"":{""hyperparameters"":{""lora"":{}}}}}"));
        Assert.Equal("local-llama", job.Str("model"));
    }

    public static TheoryData<string, string, string> BadBodies() => new()
    {
        { """{"model":"tiny-gpt2"}""", "training_file", "missing_field" },
        { """{"model":"tiny-gpt2","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"beta":-1}}}}""", "method.dpo.hyperparameters.beta", "invalid_value" },
        { """{"model":"tiny-gpt2","training_file":"f","hyperparameters":{"n_epochs":0}}""", "hyperparameters.n_epochs", "invalid_value" },
        { """{"model":"tiny-gpt2","training_file":"f","hyperparameters":{"n_epochs":"three"}}""", "hyperparameters.n_epochs", "invalid_type" },
        { """{"model":"tiny-gpt2","training_file":"f","hyperparameters":{"n_epochs":99999999999999999999}}""", "hyperparameters.n_epochs", "invalid_type" },
        { """{"model":"tiny-gpt2","training_file":"f","method":{"type":"sft"}}""", "method.type", "invalid_value" },
        { """{"model":"tiny-gpt2","training_file":"f","method":{"type":"supervised","supervised":{"hyperparameters":{"foo":1}}}}""", "method.supervised.hyperparameters.foo", "unknown_parameter" },
        { """{"model":"tiny-gpt2","training_file":"f","method":{"type":"supervised","supervised":{"hyperparameters":{"learning_rate":1e999}}}}""", "method.supervised.hyperparameters.learning_rate", "invalid_value" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Create_WithABadField_Is400NamingIt(string json, string param, string code)
    {
        var (_, client) = await api.CreateProjectAsync();
        var (response, body) = await client.PostJsonAsync(Url, json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal((param, code), (body.Error().Str("param"), body.Error().Str("code")));
        Assert.Equal("invalid_request_error", body.Error().Str("type"));
    }

    [Theory]
    [InlineData("{\"model\":")]
    [InlineData("{\"model\":\"tiny-gpt2\",\"training_file\":\"f\",\"hyperparameters\":{\"learning_rate\":NaN}}")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[]")]
    public async Task Create_WithMalformedJson_Is400InTheErrorShape(string json)
    {
        var (_, client) = await api.CreateProjectAsync();
        var (response, body) = await client.PostJsonAsync(Url, json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(body.Error().Str("code"), new[] { "invalid_json", "invalid_type" });
    }

    [Fact]
    public async Task Create_CrossChecksFilesAgainstStoredData()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var (otherProject, _) = await api.CreateProjectAsync();
        var chat = await api.AddFileAsync(projectId, "chat");
        var broken = await api.AddFileAsync(projectId, "prompt_completion", status: "error");
        var foreign = await api.AddFileAsync(otherProject, "prompt_completion");
        var good = await api.AddFileAsync(projectId, "prompt_completion");

        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""file-missing""}"), "training_file", "invalid_training_file");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (foreign) + @"""}"), "training_file", "invalid_training_file");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (broken) + @"""}"), "training_file", "invalid_training_file");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (chat) + @"""}"), "training_file", "format_mismatch");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (good) + @""",""method"":{""type"":""dpo""}}"), "training_file", "format_mismatch");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (good) + @""",""validation_file"":""" + (chat) + @"""}"), "validation_file", "format_mismatch");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (good) + @""",""validation_file"":""file-nope""}"), "validation_file", "invalid_validation_file");
    }

    [Fact]
    public async Task Create_CrossChecksModels()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var (otherProject, _) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "prompt_completion");
        var prompts = await api.AddFileAsync(projectId, "prompt_only");
        var foreignModel = await api.AddModelAsync(otherProject);
        var notAReward = await api.AddModelAsync(projectId, ModelKinds.FineTuned);
        var foreignReward = await api.AddModelAsync(otherProject, ModelKinds.RewardModel);

        await AssertError(client, (@"{""model"":""gpt-4o"",""training_file"":""" + (file) + @"""}"), "model", "model_not_found");
        await AssertError(client, (@"{""model"":""" + (foreignModel) + @""",""training_file"":""" + (file) + @"""}"), "model", "model_not_found");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (prompts) + @""",""method"":{""type"":""ppo"",""ppo"":{""hyperparameters"":{""reward_model"":""" + (notAReward) + @"""}}}}"),
            "method.ppo.hyperparameters.reward_model", "invalid_reward_model");
        await AssertError(client, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (prompts) + @""",""method"":{""type"":""ppo"",""ppo"":{""hyperparameters"":{""reward_model"":""" + (foreignReward) + @"""}}}}"),
            "method.ppo.hyperparameters.reward_model", "invalid_reward_model");

        await using var db = api.CreateDbContext();
        Assert.False(await db.Jobs.AnyAsync(j => j.ProjectId == projectId)); // nothing half-written
    }

    [Fact]
    public async Task Create_BeyondTheActiveJobLimit_Is429TooManyJobs()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        for (var i = 0; i < 20; i++) await client.CreateSupervisedJobAsync(file);
        var (response, body) = await client.PostJsonAsync(Url, (@"{""model"":""tiny-gpt2"",""training_file"":""" + (file) + @"""}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("too_many_jobs", body.Error().Str("code"));
    }

    private static async Task AssertError(HttpClient client, string json, string param, string code)
    {
        var (response, body) = await client.PostJsonAsync(Url, json);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{json} → {(int)response.StatusCode} {body}");
        Assert.Equal((param, code), (body.Error().Str("param"), body.Error().Str("code")));
    }
}
