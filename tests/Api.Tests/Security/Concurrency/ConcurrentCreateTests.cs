using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TuningService.Api.Tests.Jobs;

namespace TuningService.Api.Tests.Security.Concurrency;

/// <summary>
/// Hundreds of simultaneous creates: every accepted job is stored once and put on Hangfire's queue exactly once;
/// requests sharing an Idempotency-Key (and body) all get the one job that key created.
/// </summary>
public sealed partial class ConcurrentCreateTests(SecurityApiFactory api) : IClassFixture<SecurityApiFactory>
{
    private const int Requests = 200;

    [Fact]
    public async Task TwoHundredConcurrentCreates_StoreTwoHundredJobs_EachQueuedExactlyOnce()
    {
        var (projectId, client) = await api.CreateProjectViaApiAsync("burst");
        var fileId = await SecurityApiFactory.UploadDatasetAsync(client);
        var body = $$"""{"model":"tiny-gpt2","training_file":"{{fileId}}"}""";

        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => Task.Run(() => client.PostJsonAsync(BadInputCorpusPaths.Jobs, body))));

        Assert.All(responses, r => Assert.True(r.Response.StatusCode == HttpStatusCode.OK, $"{(int)r.Response.StatusCode}: {r.Body}"));
        var ids = responses.Select(r => r.Body.Str("id")).ToHashSet();
        Assert.Equal(Requests, ids.Count);
        await AssertEachQueuedExactlyOnceAsync(projectId, ids);
    }

    [Fact]
    public async Task TwoHundredConcurrentCreates_SharingTenIdempotencyKeys_StoreTenJobs_EachQueuedOnce()
    {
        var (projectId, client) = await api.CreateProjectViaApiAsync("idempotent burst");
        var fileId = await SecurityApiFactory.UploadDatasetAsync(client);
        var keys = Enumerable.Range(0, 10).Select(i => $"burst-{i}-{Guid.NewGuid():N}").ToArray();
        string Body(int key) => $$"""{"model":"tiny-gpt2","training_file":"{{fileId}}","suffix":"k{{key}}"}""";

        var requests = Enumerable.Range(0, Requests).Select(i => (Key: i % keys.Length, Index: i)).ToList();
        var responses = await Task.WhenAll(requests.Select(r => Task.Run(async () =>
            (r.Key, Result: await client.PostJsonAsync(BadInputCorpusPaths.Jobs, Body(r.Key), keys[r.Key])))));

        Assert.All(responses, r => Assert.True(r.Result.Response.StatusCode == HttpStatusCode.OK, $"{(int)r.Result.Response.StatusCode}: {r.Result.Body}"));
        var jobPerKey = responses.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Select(r => r.Result.Body.Str("id")).Distinct().ToList());
        Assert.All(jobPerKey, pair => Assert.Single(pair.Value));
        var ids = jobPerKey.Values.Select(v => v[0]).ToHashSet();
        Assert.Equal(keys.Length, ids.Count);
        await AssertEachQueuedExactlyOnceAsync(projectId, ids);
    }

    [Fact]
    public async Task ClientsPollingJobs_WhileJobsAreCreated_AlwaysGetAnAnswer()
    {
        var (_, client) = await api.CreateProjectViaApiAsync("pollers");
        var fileId = await SecurityApiFactory.UploadDatasetAsync(client);
        var watched = (await client.CreateSupervisedJobAsync(fileId)).Str("id");
        var statuses = new ConcurrentBag<HttpStatusCode>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var creators = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++) statuses.Add((await client.PostJsonAsync(BadInputCorpusPaths.Jobs, $$"""{"model":"tiny-gpt2","training_file":"{{fileId}}"}""")).Response.StatusCode);
        }));
        var pollers = Enumerable.Range(0, 16).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 30 && !stop.IsCancellationRequested; i++)
            {
                var url = i % 3 == 0 ? $"{BadInputCorpusPaths.Jobs}?limit=5" : $"{BadInputCorpusPaths.Jobs}/{watched}";
                using var response = await client.GetAsync(url, stop.Token);
                statuses.Add(response.StatusCode);
                if (i % 3 != 0 && response.IsSuccessStatusCode)
                    Assert.Equal("queued", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Str("status"));
            }
        }));
        await Task.WhenAll(creators.Concat(pollers));

        Assert.Equal(100 + 16 * 30, statuses.Count);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    /// <summary>One training job row per id, each with its Hangfire id set, and exactly one Hangfire job carrying each id.</summary>
    private async Task AssertEachQueuedExactlyOnceAsync(string projectId, IReadOnlySet<string> ids)
    {
        await using (var db = api.CreateDbContext())
        {
            var jobs = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).Select(j => new { j.Id, j.HangfireJobId, j.Status }).ToListAsync();
            Assert.Equal(ids.Order(), jobs.Select(j => j.Id).Order());
            Assert.All(jobs, j => Assert.Equal("queued", j.Status));
            Assert.All(jobs, j => Assert.False(string.IsNullOrEmpty(j.HangfireJobId), $"{j.Id} has no Hangfire job"));

            var deliveries = await HangfireDeliveriesAsync();
            foreach (var job in jobs)
            {
                var carrying = deliveries.Where(d => d.JobId == job.Id).ToList();
                Assert.True(carrying.Count == 1, $"{job.Id} is on Hangfire's queue {carrying.Count} times");
                Assert.Equal(job.HangfireJobId, carrying[0].HangfireId);
            }
        }
    }

    private async Task<List<(string HangfireId, string JobId)>> HangfireDeliveriesAsync()
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id::text, arguments::text FROM hangfire.job", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync())
            if (JobIdPattern().Match(reader.GetString(1)) is { Success: true } match) rows.Add((reader.GetString(0), match.Value));
        return rows;
    }

    [GeneratedRegex("ftjob-[A-Za-z0-9]+")]
    private static partial Regex JobIdPattern();
}

internal static class BadInputCorpusPaths
{
    public const string Jobs = Corpus.BadInputCorpus.Jobs;
}
