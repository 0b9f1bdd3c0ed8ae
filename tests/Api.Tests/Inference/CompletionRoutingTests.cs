using System.Net;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain.Inference;
using TuningService.Domain.Models;

namespace TuningService.Api.Tests.Inference;

/// <summary>What the Api decides before any inference worker is involved: validation, visibility, and routing to a live worker.</summary>
public sealed class CompletionRoutingTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Theory]
    [InlineData("/v1/chat/completions", """ "temperature": 2.5 """, "temperature")]
    [InlineData("/v1/chat/completions", """ "top_p": 0 """, "top_p")]
    [InlineData("/v1/chat/completions", """ "n": 9 """, "n")]
    [InlineData("/v1/chat/completions", """ "stop": ["a","b","c","d","e"] """, "stop")]
    [InlineData("/v1/chat/completions", """ "max_tokens": 0 """, "max_tokens")]
    [InlineData("/v1/chat/completions", """ "max_completion_tokens": -1 """, "max_completion_tokens")]
    [InlineData("/v1/chat/completions", """ "logprobs": true, "top_logprobs": 21 """, "top_logprobs")]
    [InlineData("/v1/chat/completions", """ "logprobs": 3 """, "logprobs")]
    [InlineData("/v1/chat/completions", """ "stream_options": {"include_usage": true} """, "stream_options")]
    [InlineData("/v1/completions", """ "logprobs": 21 """, "logprobs")]
    public async Task InvalidParameter_Is400NamingTheField(string route, string extra, string param)
    {
        var (_, client) = await api.CreateProjectAsync();
        var input = route.Contains("chat") ? """ "messages": [{"role": "user", "content": "hi"}] """ : """ "prompt": "hi" """;
        var (response, body) = await client.PostJsonAsync(route, $$"""{"model": "tiny-gpt2", {{input}}, {{extra}} }""");
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body.ToString());
        Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task MissingMessages_AndUnknownModel_AndRewardModel_AreRefused()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var (missing, missingBody) = await client.PostJsonAsync("/v1/chat/completions", """{"model": "tiny-gpt2"}""");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("messages", missingBody.GetProperty("error").GetProperty("param").GetString());

        var (unknown, unknownBody) = await client.PostJsonAsync("/v1/completions", """{"model": "ft:nope:x:ftjob-none", "prompt": "hi"}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("model_not_found", unknownBody.GetProperty("error").GetProperty("code").GetString());

        var reward = await api.AddModelAsync(projectId, ModelKinds.RewardModel);
        var (scored, scoredBody) = await client.PostJsonAsync("/v1/completions", $$"""{"model": "{{reward}}", "prompt": "hi"}""");
        Assert.Equal(HttpStatusCode.BadRequest, scored.StatusCode);
        Assert.Equal("model_not_generative", scoredBody.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task WorkerRegisteredButUnreachable_IsSkipped_And503CarriesRetryAfter()
    {
        var (_, client) = await api.CreateProjectAsync();
        await using (var db = api.CreateDbContext())
        {
            db.InferenceWorkers.Add(new InferenceWorker { Id = Guid.NewGuid().ToString(), Address = "http://127.0.0.1:1", ResidentModels = ["tiny-gpt2"] });
            await db.SaveChangesAsync();
        }
        var (response, body) = await client.PostJsonAsync("/v1/chat/completions", """{"model": "tiny-gpt2", "messages": [{"role": "user", "content": "hi"}]}""");
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, body.ToString());
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("no_inference_worker", body.GetProperty("error").GetProperty("code").GetString());
    }
}
