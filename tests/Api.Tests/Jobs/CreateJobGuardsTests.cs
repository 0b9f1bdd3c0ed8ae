using System.Net;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Models;

namespace TuningService.Api.Tests.Jobs;

/// <summary>
/// The guards' fields at the API edge: early stopping and publish best need a validation file, reference_file must be
/// processed plain text, PPO's KL controller and budget are echoed, and OpenAI's integrations are refused naming the field.
/// </summary>
public sealed class CreateJobGuardsTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private const string Url = "/v1/fine_tuning/jobs";

    private static string Body(string file, string type, string hyperparameters, string extra = "") =>
        "{\"model\":\"tiny-gpt2\",\"training_file\":\"" + file + "\"" + extra + ",\"method\":{\"type\":\"" + type + "\",\"" + type +
        "\":{\"hyperparameters\":{" + hyperparameters + "}}}}";

    private static async Task AssertRefused(HttpClient client, string json, string param, string code, string messagePart)
    {
        var (response, body) = await client.PostJsonAsync(Url, json);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{json} → {(int)response.StatusCode} {body}");
        var error = body.Error();
        Assert.Equal((param, code), (error.Str("param"), error.Str("code")));
        Assert.Contains(messagePart, error.Str("message"));
    }

    [Fact]
    public async Task Create_EarlyStoppingWithoutValidationFile_Is400_AndWithOne_PublishesBest()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var train = await api.AddFileAsync(projectId, "prompt_completion");
        var valid = await api.AddFileAsync(projectId, "prompt_completion");

        await AssertRefused(client, Body(train, "supervised", "\"early_stopping\":{\"patience\":2}"),
            "method.supervised.hyperparameters.early_stopping", "invalid_value", "validation_file");
        await AssertRefused(client, Body(train, "instruction", "\"publish\":\"best\""),
            "method.instruction.hyperparameters.publish", "invalid_value", "validation_file");
        await using (var db = api.CreateDbContext()) Assert.False(await db.Jobs.AnyAsync(j => j.ProjectId == projectId));

        var job = await client.CreateJobAsync(Body(train, "supervised", "\"early_stopping\":{\"patience\":2}", $",\"validation_file\":\"{valid}\""));
        var h = job.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters");
        Assert.Equal(2, h.GetProperty("early_stopping").GetProperty("patience").GetInt32());
        Assert.Equal(0, h.GetProperty("early_stopping").GetProperty("min_delta").GetDouble());
        Assert.Equal("best", h.Str("publish"));
        Assert.Equal(0.1, h.GetProperty("forgetting_threshold").GetDouble());
    }

    [Fact]
    public async Task Create_ReferenceFile_MustBeAProcessedTextFileOfTheProject()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var train = await api.AddFileAsync(projectId, "prompt_completion");
        var chat = await api.AddFileAsync(projectId, "chat");
        var failed = await api.AddFileAsync(projectId, "text", status: "error");
        var (otherProject, _) = await api.CreateProjectAsync();
        var foreign = await api.AddFileAsync(otherProject, "text");

        await AssertRefused(client, Body(train, "supervised", "", $",\"reference_file\":\"{chat}\""), "reference_file", "format_mismatch", "text lines");
        await AssertRefused(client, Body(train, "supervised", "", $",\"reference_file\":\"{failed}\""), "reference_file", "invalid_reference_file", "not processed");
        await AssertRefused(client, Body(train, "supervised", "", $",\"reference_file\":\"{foreign}\""), "reference_file", "invalid_reference_file", "does not exist");
        var preferences = await api.AddFileAsync(projectId, "preference");
        var text = await api.AddFileAsync(projectId, "text");
        await AssertRefused(client, Body(preferences, "reward_model", "", $",\"reference_file\":\"{text}\""), "reference_file", "invalid_value", "reward_model");

        var job = await client.CreateJobAsync(Body(train, "supervised", "\"forgetting_threshold\":0.25", $",\"reference_file\":\"{text}\""));
        Assert.Equal(text, job.Str("reference_file"));
        Assert.Equal(0.25, job.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters").GetProperty("forgetting_threshold").GetDouble());
    }

    [Fact]
    public async Task Create_PpoKlControllerAndBudget_AreStored_AndABudgetBelowTheTargetIs400()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var prompts = await api.AddFileAsync(projectId, "prompt_only");
        var reward = await api.AddModelAsync(projectId, ModelKinds.RewardModel);

        await AssertRefused(client, Body(prompts, "ppo", $"\"reward_model\":\"{reward}\",\"kl_target\":6,\"kl_budget\":3"),
            "method.ppo.hyperparameters.kl_budget", "invalid_value", "must exceed kl_target");
        await AssertRefused(client, Body(prompts, "ppo", $"\"reward_model\":\"{reward}\",\"early_stopping\":{{}}"),
            "method.ppo.hyperparameters.early_stopping", "invalid_value", "kl_budget");

        var job = await client.CreateJobAsync(Body(prompts, "ppo", $"\"reward_model\":\"{reward}\",\"kl_target\":6,\"kl_budget\":20"));
        var h = job.GetProperty("method").GetProperty("ppo").GetProperty("hyperparameters");
        Assert.Equal((6.0, 10_000L, 20.0), (h.GetProperty("kl_target").GetDouble(), h.GetProperty("kl_horizon").GetInt64(), h.GetProperty("kl_budget").GetDouble()));
    }

    [Fact]
    public async Task Create_WithOpenAisWandbIntegration_Is400NamingIntegrations()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var train = await api.AddFileAsync(projectId, "prompt_completion");

        await AssertRefused(client, Body(train, "supervised", "", ",\"integrations\":[{\"type\":\"wandb\",\"wandb\":{\"project\":\"my-project\"}}]"),
            "integrations", "invalid_value", "not supported");
        var job = await client.CreateJobAsync(Body(train, "supervised", "", ",\"integrations\":[]"));
        Assert.Equal(0, job.GetProperty("integrations").GetArrayLength());
    }
}
