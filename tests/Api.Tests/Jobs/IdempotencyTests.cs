using System.Net;
using Microsoft.EntityFrameworkCore;

namespace TuningService.Api.Tests.Jobs;

public sealed class IdempotencyTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private const string Url = "/v1/fine_tuning/jobs";

    [Fact]
    public async Task SameKeyAndBody_ReturnsTheSameJob_EvenReformatted()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var (first, a) = await client.PostJsonAsync(Url, $$"""{"model":"tiny-gpt2","training_file":"{{file}}","suffix":"x"}""", "key-1");
        var (second, b) = await client.PostJsonAsync(Url, $$"""{ "suffix": "x", "training_file": "{{file}}", "model": "tiny-gpt2" }""", "key-1");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(a.Str("id"), b.Str("id"));
        await using var db = api.CreateDbContext();
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.ProjectId == projectId));
    }

    [Fact]
    public async Task SameKeyWithAnotherBody_Is409IdempotencyKeyReused()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        await client.PostJsonAsync(Url, $$"""{"model":"tiny-gpt2","training_file":"{{file}}"}""", "key-2");
        var (response, body) = await client.PostJsonAsync(Url, $$"""{"model":"tiny-llama","training_file":"{{file}}"}""", "key-2");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("idempotency_key_reused", body.Error().Str("code"));
    }

    [Fact]
    public async Task SameKeyInAnotherProject_IsIndependent()
    {
        var (p1, c1) = await api.CreateProjectAsync();
        var (p2, c2) = await api.CreateProjectAsync();
        var a = await c1.PostJsonAsync(Url, $$"""{"model":"tiny-gpt2","training_file":"{{await api.AddFileAsync(p1, "text")}}"}""", "shared");
        var b = await c2.PostJsonAsync(Url, $$"""{"model":"tiny-gpt2","training_file":"{{await api.AddFileAsync(p2, "text")}}"}""", "shared");
        Assert.NotEqual(a.Body.Str("id"), b.Body.Str("id"));
    }

    [Fact]
    public async Task TwentyConcurrentRequestsWithOneKey_CreateExactlyOneJob()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var json = $$"""{"model":"tiny-gpt2","training_file":"{{file}}"}""";
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostJsonAsync(Url, json, "race")));

        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.Response.StatusCode));
        Assert.Single(results.Select(r => r.Body.Str("id")).Distinct());
        await using var db = api.CreateDbContext();
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.ProjectId == projectId));
    }

    [Fact]
    public async Task AnExpiredKey_MayBeUsedAgain()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "text");
        var json = $$"""{"model":"tiny-gpt2","training_file":"{{file}}"}""";
        var first = (await client.PostJsonAsync(Url, json, "old-key")).Body.Str("id");
        await using (var db = api.CreateDbContext())
            await db.Database.ExecuteSqlAsync($"UPDATE training_jobs SET created_at = now() - interval '25 hours' WHERE id = {first}");
        var (response, second) = await client.PostJsonAsync(Url, json, "old-key");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(first, second.Str("id"));
    }
}
