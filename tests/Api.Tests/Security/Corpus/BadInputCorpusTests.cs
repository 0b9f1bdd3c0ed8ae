using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Security.Corpus;

/// <summary>
/// The generated corpus against one API (rate limit off): every request gets a 4xx in OpenAI's error shape (never a
/// 5xx, never a 2xx), and the database, Hangfire's tables included, is exactly as it was.
/// </summary>
public sealed class BadInputCorpusTests(SecurityApiFactory api) : IClassFixture<SecurityApiFactory>
{
    private const int Parallelism = 8;

    [Fact]
    public void Corpus_HasAtLeast500Requests_AcrossEveryArea()
    {
        var cases = BadInputCorpus.All().ToList();
        Assert.True(cases.Count >= 500, $"{cases.Count} cases");
        Assert.Equal(["create-job", "path-ids", "queries", "uploads", "wrong-methods"], cases.Select(c => c.Area).Distinct().Order());
    }

    [Theory]
    [InlineData("create-job")]
    [InlineData("path-ids")]
    [InlineData("queries")]
    [InlineData("uploads")]
    [InlineData("wrong-methods")]
    public async Task EveryBadRequest_Gets4xxInTheErrorShape_AndChangesNothing(string area)
    {
        var (targets, client) = await CreateTargetsAsync();
        var admin = api.CreateAdminClient();
        var cases = BadInputCorpus.All().Where(c => c.Area == area).ToList();
        var before = await api.SnapshotAsync();

        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (@case, ct) =>
        {
            if (await CheckAsync(@case.Admin ? admin : client, @case, targets) is { } failure) failures.Add(failure);
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {cases.Count} requests misbehaved:\n{string.Join("\n", failures.Order().Take(40))}");
        (await api.SnapshotAsync()).AssertUnchangedSince(before, $"the {area} corpus");
    }

    private async Task<string?> CheckAsync(HttpClient client, BadRequestCase @case, CorpusTargets targets)
    {
        using var request = @case.Build(targets);
        int status;
        string body;
        try { (status, body) = await SendAsync(client, request); }
        catch (Exception e) { return $"{@case}: the request failed: {e}"; }
        {
            var excerpt = body.Length > 300 ? body[..300] : body;
            if (status is < 400 or >= 500) return $"{@case}: {status} {excerpt}";
            try
            {
                var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
                if (string.IsNullOrWhiteSpace(error.GetProperty("message").GetString())) return $"{@case}: empty message";
                if (error.GetProperty("type").ValueKind != JsonValueKind.String) return $"{@case}: no type";
                if (!error.TryGetProperty("param", out _) || !error.TryGetProperty("code", out _)) return $"{@case}: no param/code";
                if (error.GetProperty("message").GetString()!.Contains("TuningService.", StringComparison.Ordinal)) return $"{@case}: .NET type in message";
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return $"{@case}: {status} not in the error shape: {excerpt}";
            }
            return null;
        }
    }

    /// <summary>Sends through the client, or, for a raw target, straight into the server with the path decoded as Kestrel decodes it.</summary>
    private async Task<(int Status, string Body)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        if (!request.Options.TryGetValue(BadInputCorpus.RawTarget, out var target))
        {
            using var response = await client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var query = target.IndexOf('?');
        var context = await api.Server.SendAsync(c =>
        {
            c.Request.Method = request.Method.Method;
            c.Request.Path = Decode(query < 0 ? target : target[..query]);
            c.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(target[query..]);
            c.Request.Headers.Authorization = client.DefaultRequestHeaders.Authorization!.ToString();
        });
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    /// <summary>
    /// The path as Kestrel's decoder gives it to the app. That decoder refuses <c>%00</c> (Kestrel answers 400 itself);
    /// such a path is decoded here anyway, so the app's own handling of a NUL in an id is tested too.
    /// </summary>
    private static PathString Decode(string path)
    {
        try { return PathString.FromUriComponent(path); }
        catch (InvalidOperationException) { return new PathString(Uri.UnescapeDataString(path)); }
    }

    /// <summary>A project of the test's own, holding a file, a queued job with a checkpoint, and a model with files.</summary>
    private async Task<(CorpusTargets, HttpClient)> CreateTargetsAsync()
    {
        var (projectId, client) = await api.CreateProjectViaApiAsync("corpus");
        var fileId = await SecurityApiFactory.UploadDatasetAsync(client);
        var jobId = (await client.CreateSupervisedJobAsync(fileId)).Str("id");
        await using (var db = api.CreateDbContext())
        {
            db.Checkpoints.Add(new JobCheckpoint
            {
                Id = Ids.New("ftckpt-"), JobId = jobId, Step = 1, ArtifactPath = $"jobs/{jobId}/checkpoints/step-0000001",
                FineTunedModelCheckpoint = $"ft:tiny-gpt2:corpus:{jobId}:ckpt-step-1",
            });
            await db.SaveChangesAsync();
        }
        var (modelId, fileName) = await api.AddModelWithFilesAsync(projectId);
        await using var read = api.CreateDbContext();
        var keyId = read.ApiKeys.First(k => k.ProjectId == projectId).Id;
        return (new CorpusTargets(fileId, jobId, modelId, fileName, projectId, keyId), client);
    }
}
